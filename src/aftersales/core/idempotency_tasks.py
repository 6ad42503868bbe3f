"""Stored Idempotency-Key answers are kept for a day (core/idempotency.py); the worker drops older ones hourly."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .idempotency import purge_expired


@db_periodic_task(crontab(minute="17"))
def purge_idempotent_responses() -> None:
    purge_expired()
