"""The worker's heartbeat for /health/ (core/health.py): every minute the huey consumer records that it runs.

A periodic task, so a beat proves that the consumer's scheduler enqueues and one of its workers executes; a
worker jammed behind slow deliveries beats late and shows as failing.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import clock
from .health import WORKER


def record(name: str = WORKER) -> None:
    from .models import Heartbeat

    Heartbeat.objects.update_or_create(name=name, defaults={"at": clock.now()})


@db_periodic_task(crontab(minute="*"))
def worker_heartbeat() -> None:
    record(WORKER)
