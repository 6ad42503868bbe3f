"""Background entry points of coverage (huey). Thin: the services do the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from aftersales.core import clock

from . import reminders, services


# The daily job, run every hour so that a worker that was down at midnight catches up within the hour; a run does only
# what is due, and two runs at once are safe without a lock (renew locks the contract and a period is renewed once;
# reminder rows are unique), so nothing is left locked by a killed worker either.
@db_periodic_task(crontab(minute="5"))
def coverage_daily() -> dict:
    """CUS-4: renew the ended periods of tacit contracts, then send the reminders due today (90/30/7 days)."""
    renewed = services.renew_due_tacit(today=clock.today())
    return {"renewed": len(renewed), "reminders": reminders.send_due_reminders()}
