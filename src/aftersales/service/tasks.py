"""Background entry points (huey). Thin: the services do the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import services


@db_periodic_task(crontab(minute="*"))
@lock_task("service-sweep")
def sweep_deadlines() -> int:
    """Warnings and escalations fire within a minute of their time, also when nobody has a page open."""
    return services.sweep()
