"""Background entry points of repairs (huey). Thin: reminders.py does the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import reminders


# Hourly, so a worker that was down catches up within the hour; a run enqueues only keys the outbox has not seen, so
# several workers running it at once send each reminder once.
@db_periodic_task(crontab(minute="15"))
def overdue_reminders() -> int:
    """§4: tell the desk (and the customer, for a loan) about spare units and RMAs past their dates."""
    return reminders.send_overdue_reminders()
