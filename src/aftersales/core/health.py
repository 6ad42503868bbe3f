"""Issue 20 point 5: `/health/` for monitors, and the same checks on the administrators' overview.

Four checks, one query each, whatever the size of the data (an indexed range read, LIMIT 1):
- database: a trivial query succeeds; how long it took;
- outbox: how long the oldest message that is due has been waiting (notify: pending messages carry
  `next_attempt_at`; a message a worker is sending has its lease there, in the future — index `outbox_due`);
- deadlines: how long the oldest warning/escalation check has been overdue beyond the sweep's grace
  (service: `next_check_at`, index `srq_check`; the minute sweep handles everything due);
- heartbeat: how old the worker's last heartbeat is (core/heartbeat_tasks.py writes it every minute).

The answer carries ages in seconds and nothing else: no names, no counts of business data. It is public, so a
monitor can poll it over plain HTTP from inside (settings: SECURE_REDIRECT_EXEMPT).
"""

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from . import clock

WORKER = "worker"  # the heartbeat's name for the huey consumer
DEADLINE_GRACE = timedelta(minutes=2)  # the minute sweep has had time to handle a check due this long

# Thresholds in seconds; a setting or environment variable of the same name overrides them (limit()).
DEFAULT_LIMITS = {
    "AFTERSALES_HEALTH_OUTBOX_MAX_AGE": 15 * 60,
    "AFTERSALES_HEALTH_DEADLINE_MAX_AGE": 5 * 60,
    "AFTERSALES_HEALTH_HEARTBEAT_MAX_AGE": 3 * 60,
}

CHECKS = ("database", "outbox", "deadlines", "heartbeat")
LABELS = {
    "database": _("Database"),
    "outbox": _("Notification outbox"),
    "deadlines": _("Deadline checks"),
    "heartbeat": _("Worker heartbeat"),
}


def limit(name: str) -> int:
    """The Django setting `name`, else the environment variable of that name, else the default; a value that is
    not a positive whole number falls back to the default."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return DEFAULT_LIMITS[name]
    return number if number > 0 else DEFAULT_LIMITS[name]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    value: float | int | None  # database: ms; the others: age in seconds, None when nothing is waiting / no beat
    limit: int | None  # seconds; None for the database

    @property
    def label(self) -> str:
        return str(LABELS[self.name])

    def as_json(self) -> dict:
        key = "ms" if self.name == "database" else "age_seconds"
        return {"ok": self.ok, key: self.value, "limit_seconds": self.limit}


def _age(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


def oldest_due_message(now: datetime) -> datetime | None:
    """When the longest-waiting due message became due. The worker's own query (notify.services), LIMIT 1."""
    from aftersales.notify.models import OutboxMessage

    return (OutboxMessage.objects.filter(sent_at=None, failed_at=None, next_attempt_at__lte=now)
            .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())


def oldest_overdue_check(now: datetime) -> datetime | None:
    """The earliest `next_check_at` the sweep should have handled by now. The sweep's own query, LIMIT 1."""
    from aftersales.service.models import ServiceRequest

    return (ServiceRequest.objects.filter(next_check_at__lte=now - DEADLINE_GRACE)
            .order_by("next_check_at").values_list("next_check_at", flat=True).first())


def last_heartbeat(name: str = WORKER) -> datetime | None:
    from .models import Heartbeat

    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


def run_checks() -> list[Check]:
    """The four checks in CHECKS order; four queries. When the database fails, the others are not tried and
    count as failing (unknown)."""
    now = clock.now()
    try:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = Check("database", True, round((time.perf_counter() - started) * 1000, 1), None)
        ages = (_age(now, oldest_due_message(now)), _age(now, oldest_overdue_check(now)), _age(now, last_heartbeat()))
    except DatabaseError:
        database = Check("database", False, None, None)
        ages = (None, None, None)
    outbox_limit = limit("AFTERSALES_HEALTH_OUTBOX_MAX_AGE")
    deadline_limit = limit("AFTERSALES_HEALTH_DEADLINE_MAX_AGE")
    heartbeat_limit = limit("AFTERSALES_HEALTH_HEARTBEAT_MAX_AGE")
    outbox, deadlines, heartbeat = ages
    return [
        database,
        Check("outbox", database.ok and (outbox is None or outbox <= outbox_limit), outbox, outbox_limit),
        Check("deadlines", database.ok and (deadlines is None or deadlines <= deadline_limit), deadlines, deadline_limit),
        Check("heartbeat", heartbeat is not None and heartbeat <= heartbeat_limit, heartbeat, heartbeat_limit),
    ]


def report(checks: list[Check] | None = None) -> dict:
    """The JSON body of /health/; always the same keys (README "Health")."""
    checks = run_checks() if checks is None else checks
    failing = [check.name for check in checks if not check.ok]
    return {
        "status": "failing" if failing else "ok",
        "failing": failing,
        "checks": {check.name: check.as_json() for check in checks},
    }


@require_safe
def health_view(request):
    """Public, JSON, never cached: 200 when every check passes, 503 otherwise."""
    body = report()
    response = JsonResponse(body, status=200 if body["status"] == "ok" else 503)
    response["Cache-Control"] = "no-store"
    return response
