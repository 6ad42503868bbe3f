"""The worker's heartbeat for /health/ (core/health.py): every minute the huey consumer records that it runs.

A periodic task of the main queue, so a beat proves that its consumer's scheduler enqueues and one of its workers
executes (the deadline checks run there). Delivery has a queue and consumer of its own (core/queue.py): a delivery
jammed behind a slow mail server shows in the outbox check (the oldest due message), not here.
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
