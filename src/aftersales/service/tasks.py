"""Background entry points (huey). Thin: the sweep and the clock do the work."""

from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from . import clock, signals, sweep


# On the main queue, never behind mail or webhooks (they have their own queue: core/queue.py). The lock keeps minute
# runs from piling up; a killed worker's lock is cleared when the worker starts again (flush_locks). Two sweeps at once
# would still fire each step once (sweep.handle_due_batch: alert rows).
@db_periodic_task(crontab(minute="*"))
@lock_task("service-sweep")
def sweep_deadlines() -> int:
    """Warnings and escalations fire within a minute of their time, also when nobody has a page open."""
    return sweep.sweep()


@db_task()
def check_request(request_id: int) -> None:
    """Scheduled for the request's next warning or escalation instant (the minute sweep is the safety net)."""
    sweep.handle_due(request_id)


@receiver(signals.check_due_at, dispatch_uid="service_schedule_check")
def schedule_check(sender=None, *, request_id: int, at, **kwargs) -> None:
    check_request.schedule(args=(request_id,), eta=at)


@db_task()
def recompute_open_requests(**scope) -> int:
    """A calendar changed: the due times of the open requests it can touch move (calendar_store.recompute_after_change)."""
    return clock.recompute_open_requests(**scope)


@receiver(signals.calendar_changed, dispatch_uid="service_calendar_changed")
def recompute_after_calendar_change(sender=None, **scope) -> None:
    scope.pop("signal", None)
    recompute_open_requests(**scope)
