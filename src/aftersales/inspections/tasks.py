"""Background entry points of inspections (huey). Thin: the services do the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from aftersales.core import clock

from . import services


# Hourly, so that a worker that was down at midnight catches up within the hour. Two runs at once are safe without a
# queue lock: a round is unique per (plan, period) and each plan is generated under its row lock; a round is marked
# missed by a conditional update. Nothing is left locked by a killed worker.
@db_periodic_task(crontab(minute="15"))
def inspections_hourly() -> dict:
    """INS-1: generate the rounds ahead for every active plan's horizon, then mark the rounds whose window ended."""
    today = clock.today()
    created = services.generate_all(today=today)
    missed = services.mark_missed_rounds(today=today)
    return {"generated": created, "missed": len(missed)}


# INS-2 (issue 23 §2): hourly, so a reminder due at 09:00 goes out within the hour even after a worker restart. Safe
# on several workers: each proposal is claimed by a conditional update of its due time, and the outbox's dedupe key
# (round, request version, day) makes a second enqueue on the same day add nothing.
@db_periodic_task(crontab(minute="25"))
def inspection_approval_reminders() -> int:
    """Remind the customer's contacts, once a day, of a window still waiting for their approval."""
    from . import approvals

    return approvals.send_reminders(now=clock.now())
