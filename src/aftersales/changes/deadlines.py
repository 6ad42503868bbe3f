"""LOG-3: when our answer to a change notice is due. Pure: times in, times out (no ORM, no clock).

The rule, chosen for the seed's purpose (the customer must hear before the change whether it is safe):

- we answer a day before the window opens (`LEAD`), so the customer has time to postpone or prepare the change;
- but never sooner than `MINIMUM` after the notice arrived: the project's SLA reply promise is 2 hours, and no test
  can be promised faster than a reply. A notice for a window that opens in less than a day is therefore due 2 hours
  after it arrived, which may be after the window opens: the page says so, and the desk sees it first in its list.

Wall-clock hours, not working hours: a change is usually planned for a night or a weekend, exactly when an
office-hours clock would stand still.

The desk is warned twice, like an SLA target: "due soon" `WARN_BEFORE` ahead of the deadline (never before the
notice arrived), and "overdue" at the deadline."""

from datetime import datetime, timedelta

LEAD = timedelta(hours=24)
MINIMUM = timedelta(hours=2)
WARN_BEFORE = timedelta(hours=1)


def answer_due_at(submitted_at: datetime, window_starts_at: datetime, *, lead: timedelta = LEAD,
                  minimum: timedelta = MINIMUM) -> datetime:
    """The window's start minus `lead`, but never sooner than `minimum` after submission."""
    return max(window_starts_at - lead, submitted_at + minimum)


def due_soon_at(submitted_at: datetime, answer_due: datetime, *, before: timedelta = WARN_BEFORE) -> datetime:
    """The "due soon" warning: `before` ahead of the deadline, not before the notice arrived, not after the deadline."""
    return min(max(answer_due - before, submitted_at), answer_due)


def answered_in_time(answer_due: datetime, answered_at: datetime | None) -> bool | None:
    """None while unanswered."""
    return None if answered_at is None else answered_at <= answer_due
