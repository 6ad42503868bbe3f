"""Background entry points of return visits (huey). Thin: the services do the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from aftersales.core import clock

from . import services


# Hourly, so a worker that was down at the turn of a month catches up within the hour. Safe on several workers at
# once and when run twice: a visit is unique per (schedule, period) and per service request, and a schedule's
# high-water mark only moves by compare-and-set; nothing is locked, so a killed worker leaves nothing behind.
@db_periodic_task(crontab(minute="20"))
def visits_hourly() -> dict:
    """VIS-1: make the visits of the periods that have begun, and the visits after closed service requests."""
    return {"schedules": services.generate_due_visits(today=clock.today()),
            "after_requests": services.generate_after_request_visits(now=clock.now())}
