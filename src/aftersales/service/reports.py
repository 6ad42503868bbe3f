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
per group, filtered to the two ranks wanted. Two queries, both through the ORM: the counts, and the percentiles.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Window
from django.db.models.functions import RowNumber

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


MET = Q(breached_at__isnull=True, met_at__isnull=False, met_at__lte=F("due_at"))
MISSED = Q(breached_at__isnull=False) | Q(met_at__isnull=False, met_at__gt=F("due_at"))


def compliance_summary(user, period: Period, *, customer_id: int | None = None) -> list[dict]:
    """One row per (target kind, priority) that has targets in the period; see the module docstring."""
    requests = ServiceRequest.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    if customer_id is not None:
        requests = requests.filter(customer_id=customer_id)
    targets = Target.objects.filter(request__in=visible(requests, user).values("pk")).annotate(
        prio=F("request__priority"))
    counts = (targets.values("kind", "prio")
              .annotate(met=Count("pk", filter=MET), missed=Count("pk", filter=MISSED), total=Count("pk"))
              .order_by("kind", "prio"))
    group = [F("kind"), F("prio")]
    ranked = (targets.filter(met_at__isnull=False, started_at__isnull=False)
              .annotate(took=ExpressionWrapper(F("met_at") - F("started_at"), output_field=DurationField()))
              .annotate(rank=Window(RowNumber(), partition_by=group, order_by=[F("took").asc(), F("pk").asc()]),
                        size=Window(Count("pk"), partition_by=group)))
    wanted = ranked.filter(Q(rank=(F("size") + 1) / 2) | Q(rank=(9 * F("size") + 9) / 10))
    percentiles = {}
    for kind, prio, rank, size, took in wanted.values_list("kind", "prio", "rank", "size", "took"):
        minutes = took.total_seconds() / 60
        found = percentiles.setdefault((kind, prio), {})
        if rank == (size + 1) // 2:
            found["median"] = minutes
        if rank == (9 * size + 9) // 10:
            found["p90"] = minutes
    out = []
    for row in counts:
        met, missed = row["met"], row["missed"]
        decided = met + missed
        found = percentiles.get((row["kind"], row["prio"]), {})
        out.append({
            "target": row["kind"], "priority": row["prio"], "met": met, "missed": missed,
            "undecided": row["total"] - decided, "met_percent": round(100.0 * met / decided, 1) if decided else None,
            "median_minutes": round(found["median"], 1) if "median" in found else None,
            "p90_minutes": round(found["p90"], 1) if "p90" in found else None,
        })
    return out
