"""Background entry points (huey). Thin: the sweep and the clock do the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import clock, sweep


@db_periodic_task(crontab(minute="*"))
@lock_task("service-sweep")
def sweep_deadlines() -> int:
    """Warnings and escalations fire within a minute of their time, also when nobody has a page open."""
    return sweep.sweep()


@db_task()
def check_request(request_id: int) -> None:
    """Scheduled for the request's next warning or escalation instant (the minute sweep is the safety net)."""
    sweep.handle_due(request_id)


def schedule_check(request_id: int, at) -> None:
    check_request.schedule(args=(request_id,), eta=at)


@db_task()
def recompute_open_requests(**scope) -> int:
    """A calendar changed: the due times of the open requests it can touch move (calendars.recompute_after_change)."""
    return clock.recompute_open_requests(**scope)
