"""INS-1: a plan's calendar, pure (no ORM, no clock).

A plan runs monthly or quarterly, anchored to the calendar: its `anchor_day` (1-31) is the day of the month a round is
due, clamped to the month's last day (a plan anchored on the 31st is due on 30 April and on 28 or 29 February), and a
quarterly plan is due in the same month of every calendar quarter (January/April/July/October, or the second or third
month of each quarter), the month given by `anchor_month` (0, 1 or 2). Each round has a period (a calendar month or
quarter, the round's window): the period's first day is its key, so a plan has at most one round per period.

The anchor never drifts: it is re-clamped in every period from the plan's own day, so a plan anchored on the 31st is due
on 31 March after 28 February (not on the 28th forever after)."""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

MONTHLY, QUARTERLY = "monthly", "quarterly"
MONTHS_PER_PERIOD = {MONTHLY: 1, QUARTERLY: 3}


@dataclass(frozen=True, order=True)
class Period:
    start: date  # first day of the month or quarter: the key of the plan's round in this period
    end: date  # last day of the period: the round's window ends here
    due_on: date  # the anchored day

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def month_shift(year: int, month: int, months: int) -> tuple[int, int]:
    """(year, month) `months` months after (year, month); months may be negative."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def clamped(year: int, month: int, day: int) -> date:
    """`day` of the month, or the month's last day when the month is shorter (31 -> 30 April, 29 -> 28 February)."""
    return date(year, month, min(day, monthrange(year, month)[1]))


def period_start(day: date, cadence: str) -> date:
    """The first day of the month or calendar quarter containing `day`."""
    if cadence == QUARTERLY:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day.replace(day=1)


def period_of(start: date, *, cadence: str, anchor_day: int, anchor_month: int = 0) -> Period:
    """The period beginning on `start` (the first day of a month or quarter) and its due day."""
    months = MONTHS_PER_PERIOD[cadence]
    end_year, end_month = month_shift(start.year, start.month, months)
    offset = anchor_month if cadence == QUARTERLY else 0
    due_year, due_month = month_shift(start.year, start.month, offset)
    return Period(start=start, end=date(end_year, end_month, 1) - timedelta(days=1),
                  due_on=clamped(due_year, due_month, anchor_day))


def check_anchor(*, cadence: str, anchor_day: int, anchor_month: int = 0) -> None:
    if cadence not in MONTHS_PER_PERIOD:
        raise ValueError(f"unknown cadence {cadence!r}")
    if not 1 <= anchor_day <= 31:
        raise ValueError("anchor_day is 1 to 31")
    if not 0 <= anchor_month < MONTHS_PER_PERIOD[cadence]:
        raise ValueError("anchor_month is 0 for a monthly plan, 0 to 2 for a quarterly one")


def periods(*, cadence: str, anchor_day: int, anchor_month: int = 0, starts_on: date, ends_on: date | None = None,
            open_on: date | None = None, due_until: date) -> list[Period]:
    """The plan's periods, in order, whose due day is within the plan's own dates (`starts_on` .. `ends_on`, both
    included) and not after `due_until`; with `open_on`, only the periods whose window has not ended before it."""
    check_anchor(cadence=cadence, anchor_day=anchor_day, anchor_month=anchor_month)
    months = MONTHS_PER_PERIOD[cadence]
    start = period_start(starts_on, cadence)
    if open_on is not None:  # periods ending before `open_on` are skipped whole
        start = max(start, period_start(open_on, cadence))
    last = min(due_until, ends_on) if ends_on else due_until
    found = []
    while start <= last:
        period = period_of(start, cadence=cadence, anchor_day=anchor_day, anchor_month=anchor_month)
        if period.due_on > last:
            break
        if period.due_on >= starts_on:
            found.append(period)
        year, month = month_shift(start.year, start.month, months)
        start = date(year, month, 1)
    return found


def quarter_month_of(day: date) -> int:
    """0, 1 or 2: the month of its quarter `day` falls in (a quarterly plan starting on `day` is due in that month)."""
    return (day.month - 1) % 3
