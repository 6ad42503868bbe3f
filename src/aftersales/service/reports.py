"""RPT-1 (part): the monthly SLA compliance summary, computed by the database.

Per target kind (reply, departure, arrival, resolution) and request priority, over the targets of the
requests **opened** in a period (half-open, in local time: a month is [1st 00:00, next 1st 00:00) in
Asia/Shanghai), scoped to what the user may see (`visible()`):

* ``met``: met in time (met_at ≤ due_at, no breach recorded);
* ``missed``: a breach recorded, or met after its due time;
* ``undecided``: neither (still running, waiting for its start, or the request was cancelled first);
* ``met_percent``: met / (met + missed), i.e. a percentage of the *decided* targets, undecided ones excluded
  (None when nothing is decided);
* ``median_minutes`` / ``p90_minutes``: time from the target's start to its meeting, over every met target
  (late ones included), nearest-rank percentile (the smallest value with at least 50 % / 90 % of the
  values at or below it). Wall-clock minutes, not calendar (service-hours) minutes.

SQLite has no percentile function: the percentiles come from ROW_NUMBER() and COUNT() window functions
per group. The same SQL runs on PostgreSQL (only the minutes expression differs). One query.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import F

from aftersales.core.scoping import visible

from .models import ServiceRequest, Target


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        zone = ZoneInfo(settings.TIME_ZONE)
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        return cls(start, end)

    @classmethod
    def year(cls, year: int) -> "Period":
        zone = ZoneInfo(settings.TIME_ZONE)
        return cls(datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone))

    @classmethod
    def containing(cls, day: date) -> "Period":
        return cls.month(day.year, day.month)


def _minutes_sql() -> str:
    if connection.vendor == "postgresql":
        return "EXTRACT(EPOCH FROM (met_at - started_at)) / 60.0"
    return "(julianday(met_at) - julianday(started_at)) * 1440.0"


def compliance_summary(user, period: Period, *, customer_id: int | None = None) -> list[dict]:
    """One row per (target kind, priority) that has targets in the period; see the module docstring."""
    requests = ServiceRequest.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    if customer_id is not None:
        requests = requests.filter(customer_id=customer_id)
    targets = (Target.objects.filter(request__in=visible(requests, user).values("pk"))
               .annotate(prio=F("request__priority"))
               .values("kind", "prio", "started_at", "met_at", "due_at", "breached_at")
               .order_by())
    inner, params = targets.query.sql_with_params()
    minutes = _minutes_sql()
    sql = f"""
        WITH t AS ({inner}),
        s AS (
            SELECT kind, prio,
                   CASE WHEN breached_at IS NOT NULL OR (met_at IS NOT NULL AND met_at > due_at) THEN 1 ELSE 0 END AS missed,
                   CASE WHEN breached_at IS NULL AND met_at IS NOT NULL AND met_at <= due_at THEN 1 ELSE 0 END AS met,
                   CASE WHEN met_at IS NOT NULL AND started_at IS NOT NULL THEN {minutes} END AS minutes
            FROM t),
        r AS (
            SELECT kind, prio, minutes,
                   ROW_NUMBER() OVER (PARTITION BY kind, prio ORDER BY minutes) AS rn,
                   COUNT(*) OVER (PARTITION BY kind, prio) AS cnt
            FROM s WHERE minutes IS NOT NULL),
        q AS (
            SELECT kind, prio,
                   MAX(CASE WHEN rn = (cnt + 1) / 2 THEN minutes END) AS median,
                   MAX(CASE WHEN rn = (9 * cnt + 9) / 10 THEN minutes END) AS p90
            FROM r GROUP BY kind, prio),
        a AS (
            SELECT kind, prio, SUM(met) AS met, SUM(missed) AS missed, COUNT(*) AS total
            FROM s GROUP BY kind, prio)
        SELECT a.kind, a.prio, a.met, a.missed, a.total, q.median, q.p90
        FROM a LEFT JOIN q ON q.kind = a.kind AND q.prio = a.prio
        ORDER BY a.kind, a.prio
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = []
    for kind, priority, met, missed, total, median, p90 in rows:
        met, missed = int(met or 0), int(missed or 0)
        decided = met + missed
        out.append({
            "target": kind, "priority": priority, "met": met, "missed": missed, "undecided": int(total) - decided,
            "met_percent": round(100.0 * met / decided, 1) if decided else None,
            "median_minutes": round(float(median), 1) if median is not None else None,
            "p90_minutes": round(float(p90), 1) if p90 is not None else None,
        })
    return out
