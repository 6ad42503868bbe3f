"""RPT-1: the report figures, computed by the database.

Every function takes the user (everything is scoped by `visible()`: a customer's user sees only its own data, branch
staff their branch) and a `Filters` value, costs a fixed number of queries whatever the data size, and counts in SQL
(``Count``/``Sum``/``Avg`` with ``filter=``, window functions): Python only merges the few grouped rows.
`rows(figure, user, filters, **key)` returns the queryset behind one number (the drill-down pages and the exports):
the figure counts exactly those rows, so the number and its list always agree.

Periods (`aftersales.service.reports.Period`) are half-open and local to Asia/Shanghai: March is
[03-01 00:00, 04-01 00:00) Shanghai time, so a request opened at 23:30 on 31 March belongs to March and one opened at
00:00 on 1 April to April.

SLA compliance (`sla_compliance`), over the requests **opened** in the period (and matching the filters), one row per
(target kind, priority) for every priority that has requests:

* ``n``: the requests of that priority (every target kind is asked of every request);
* ``not_applicable``: the requests where the target does not apply — no started target of that kind (no rule for the
  priority, or an on-site-only rule — departure, arrival — on a request served by phone or remotely: the service
  clock writes a `Target` row only when its start event happens), or the request was cancelled while the target was
  still running (neither met nor missed: the promise ended without a verdict);
* ``met``: met in time (met_at ≤ due_at and no breach recorded);
* ``missed``: a breach recorded, or met after its due time;
* ``undecided``: applicable and still running (the request is open, the target neither met nor missed yet);
  so n = met + missed + undecided + not_applicable;
* ``met_percent``: met / (met + missed) × 100, of the decided targets only (None when nothing is decided);
* ``paused_seconds``: the summed duration of the pauses (`Pause`, the owner's time: the clock stopped) of the requests
  whose target applies; a pause still open is counted until the period's end or now, whichever is earlier;
* ``median_minutes`` / ``p90_minutes``: wall-clock minutes from the target's start to its meeting, over every met
  target (late ones included), nearest rank (the smallest value with at least 50 % / 90 % of the values at or below
  it), from ROW_NUMBER() and COUNT() windows (SQLite has no percentile function).

The other figures: `escalations` (escalation alerts fired in the period, one row per request: its highest level),
`satisfaction` (work orders confirmed in the period with a 1–5 score), `inspection_completion` (rounds due in the
period), `expiries` (warranties and contracts ending in [day, day + within_days]), `failures_by_model` (devices named
on the requests opened in the period, per installed unit and mean time between failures), `warranty_costs` (charge
lines of the sheets issued in the period, our cost under and after warranty). Their docstrings say which filters
apply; a filter that cannot apply to a figure (a priority on inspection rounds) is ignored there.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404

from aftersales.assets.models import Device
from aftersales.billing.models import ChargeLine
from aftersales.contracts.models import CoveragePeriod, ServiceContract
from aftersales.core import clock
from aftersales.core.scoping import visible
from aftersales.inspections.models import InspectionRound, RoundState
from aftersales.repairs.models import RepairCase
from aftersales.service.models import (
    OPEN_STATES,
    AlertKind,
    Priority,
    ServiceRequest,
    SlaAlert,
    State,
    Target,
    TargetKind,
    Visit,
    WorkOrder,
)
from aftersales.service.reports import Period

__all__ = [
    "FIGURES",
    "Filters",
    "Period",
    "escalations",
    "expiries",
    "failures_by_model",
    "inspection_completion",
    "rows",
    "satisfaction",
    "sla_compliance",
    "warranty_costs",
]


@dataclass(frozen=True)
class Filters:
    period: Period
    customer_id: int | None = None
    project_id: int | None = None
    branch_id: int | None = None
    engineer_id: int | None = None  # the request's assignee (an inspection round's engineer)
    priority: str | None = None
    device_model: str | None = None  # Device.model, exact text


# ------------------------------------------------------------------------------------------------ requests

def _matching(qs: QuerySet, filters: Filters, *, customer="customer_id", project="project_id", branch="branch_id",
              engineer=None) -> QuerySet:
    """The filters' customer, project, branch and (where the model has one) engineer, as lookups of `qs`'s model."""
    for path, value in ((customer, filters.customer_id), (project, filters.project_id), (branch, filters.branch_id),
                        (engineer, filters.engineer_id)):
        if path and value is not None:
            qs = qs.filter(**{path: value})
    return qs


def requests(user, filters: Filters, *, in_period: bool = True) -> QuerySet:
    """The requests a figure starts from: opened in the period (unless `in_period` is False), matching every filter,
    scoped to the user."""
    qs = ServiceRequest.objects.all()
    if in_period:
        qs = qs.filter(created_at__gte=filters.period.start, created_at__lt=filters.period.end)
    qs = _matching(qs, filters, engineer="assignee_id")
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.device_model:
        named = ServiceRequest.devices.through.objects.filter(servicerequest=OuterRef("pk"),
                                                              device__model=filters.device_model)
        qs = qs.filter(Exists(named))
    return visible(qs, user)


# --------------------------------------------------------------------------------------------- SLA compliance

APPLIES = Q(started_at__isnull=False) & ~Q(request__state=State.CANCELLED, met_at__isnull=True, breached_at__isnull=True)
MET = Q(breached_at__isnull=True, met_at__isnull=False, met_at__lte=F("due_at"))
MISSED = Q(breached_at__isnull=False) | Q(met_at__isnull=False, met_at__gt=F("due_at"))
UNDECIDED = ~MET & ~MISSED

KIND_ORDER = list(TargetKind.values)
PRIORITY_ORDER = [Priority.EMERGENCY, Priority.SERIOUS, Priority.GENERAL]


def applicable_targets(user, filters: Filters) -> QuerySet:
    return Target.objects.filter(APPLIES, request__in=requests(user, filters).values("pk"))


def _clip(filters: Filters):
    return min(filters.period.end, clock.now())


def _seconds(value) -> float:
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value / 1_000_000  # a backend that returns microseconds


def sla_compliance(user, filters: Filters) -> list[dict]:
    """One row per (target kind, priority); see the module docstring. Three queries: requests per priority, the
    target counts with the paused time, the percentiles."""
    per_priority = dict(requests(user, filters).order_by().values_list("priority").annotate(n=Count("pk")))
    if not per_priority:
        return []
    targets = applicable_targets(user, filters)
    clip = _clip(filters)
    pause_end = Coalesce(F("request__pauses__ended_at"), Value(clip, output_field=DateTimeField()))
    pause_counted = Q(request__pauses__ended_at__isnull=False) | Q(request__pauses__started_at__lt=clip)
    counts = (targets.values("kind", prio=F("request__priority"))
              .annotate(applicable=Count("pk", distinct=True),
                        met=Count("pk", filter=MET, distinct=True),
                        missed=Count("pk", filter=MISSED, distinct=True),
                        paused=Sum(ExpressionWrapper(pause_end - F("request__pauses__started_at"),
                                                     output_field=DurationField()), filter=pause_counted))
              .order_by())
    found = {(row["kind"], row["prio"]): row for row in counts}
    percentiles = _percentiles(targets)
    out = []
    for prio in sorted(per_priority, key=_priority_rank):
        n = per_priority[prio]
        for kind in KIND_ORDER:
            row = found.get((kind, prio), {})
            applicable, met, missed = row.get("applicable", 0), row.get("met", 0), row.get("missed", 0)
            decided = met + missed
            times = percentiles.get((kind, prio), {})
            out.append({
                "target": kind, "priority": prio, "n": n, "met": met, "missed": missed,
                "not_applicable": n - applicable, "undecided": applicable - decided,
                "paused_seconds": round(_seconds(row.get("paused"))),
                "met_percent": round(100.0 * met / decided, 1) if decided else None,
                "median_minutes": times.get("median"), "p90_minutes": times.get("p90"),
            })
    return out


def _priority_rank(priority) -> int:
    return PRIORITY_ORDER.index(priority) if priority in PRIORITY_ORDER else len(PRIORITY_ORDER)


def _percentiles(targets: QuerySet) -> dict:
    """{(kind, priority): {"median": minutes, "p90": minutes}}: nearest rank, one query."""
    group = [F("kind"), F("request__priority")]
    ranked = (targets.filter(met_at__isnull=False)
              .annotate(prio=F("request__priority"),
                        took=ExpressionWrapper(F("met_at") - F("started_at"), output_field=DurationField()))
              .annotate(rank=Window(RowNumber(), partition_by=group, order_by=[F("took").asc(), F("pk").asc()]),
                        size=Window(Count("pk"), partition_by=group)))
    wanted = ranked.filter(Q(rank=(F("size") + 1) / 2) | Q(rank=(9 * F("size") + 9) / 10))
    out = {}
    for kind, prio, rank, size, took in wanted.values_list("kind", "prio", "rank", "size", "took"):
        minutes = round(_seconds(took) / 60, 1)
        times = out.setdefault((kind, prio), {})
        if rank == (size + 1) // 2:
            times["median"] = minutes
        if rank == (9 * size + 9) // 10:
            times["p90"] = minutes
    return out


# ------------------------------------------------------------------------------------------------ escalations

def _escalation_alerts(user, filters: Filters) -> QuerySet:
    """Escalation alerts fired in the period on the matching requests (opened whenever), one per request: its
    highest level, the earliest at that level."""
    period = filters.period
    alerts = SlaAlert.objects.filter(kind=AlertKind.ESCALATION, fired_at__gte=period.start, fired_at__lt=period.end,
                                     request__in=requests(user, filters, in_period=False).values("pk"))
    outranked = alerts.filter(request=OuterRef("request")).filter(
        Q(level__gt=OuterRef("level"))
        | Q(level=OuterRef("level"), fired_at__lt=OuterRef("fired_at"))
        | Q(level=OuterRef("level"), fired_at=OuterRef("fired_at"), pk__lt=OuterRef("pk")))
    return alerts.filter(~Exists(outranked))


def escalations(user, filters: Filters, *, limit: int | None = None) -> list[dict]:
    """Per escalated request (newest first): request_id, number, title, level, target, fired_at. One query."""
    qs = (_escalation_alerts(user, filters)
          .values("request_id", "level", "target", "fired_at", number=F("request__number"), title=F("request__title"))
          .order_by("-fired_at", "-pk"))
    return list(qs[:limit] if limit is not None else qs)


def escalation_count(user, filters: Filters) -> int:
    return _escalation_alerts(user, filters).count()


# ----------------------------------------------------------------------------------------------- satisfaction

def rated_work_orders(user, filters: Filters) -> QuerySet:
    """Work orders confirmed in the period with a score, of the matching requests (opened whenever)."""
    period = filters.period
    return WorkOrder.objects.filter(satisfaction__isnull=False, confirmed_at__gte=period.start,
                                    confirmed_at__lt=period.end,
                                    request__in=requests(user, filters, in_period=False).values("pk"))


def satisfaction(user, filters: Filters) -> dict:
    """n, average (None if n == 0) and the distribution {1: count, …, 5: count}. One query."""
    found = rated_work_orders(user, filters).aggregate(
        n=Count("pk"), average=Avg("satisfaction"),
        **{f"s{score}": Count("pk", filter=Q(satisfaction=score)) for score in range(1, 6)})
    average = found["average"]
    return {"n": found["n"], "average": round(float(average), 2) if average is not None else None,
            "distribution": {score: found[f"s{score}"] for score in range(1, 6)}}


# ------------------------------------------------------------------------------------------------ inspections

def _local_days(period: Period) -> tuple[date, date]:
    """The period's local dates, [first, last + 1)."""
    zone = period.start.tzinfo
    return period.start.astimezone(zone).date(), period.end.astimezone(zone).date()


def due_rounds(user, filters: Filters) -> QuerySet:
    """Inspection rounds due in the period (local dates); customer, project, branch and engineer (the round's)
    filters apply, priority does not; a device model keeps the rounds that check such a device."""
    first, after = _local_days(filters.period)
    qs = _matching(InspectionRound.objects.filter(due_on__gte=first, due_on__lt=after), filters, engineer="engineer_id")
    if filters.device_model:
        from aftersales.inspections.models import DeviceCheck
        qs = qs.filter(Exists(DeviceCheck.objects.filter(round=OuterRef("pk"), device__model=filters.device_model)))
    return visible(qs, user)


ROUND_FILTERS = {
    "due": Q(),
    "done": Q(state=RoundState.DONE),
    "missed": Q(state=RoundState.MISSED),
    "overridden": Q(overridden_at__isnull=False),
}


def inspection_completion(user, filters: Filters) -> dict:
    """due, done, missed, overridden (started without the customer's approval) and percent = done / due × 100
    (None when nothing is due). One query."""
    found = due_rounds(user, filters).aggregate(**{name: Count("pk", filter=q) for name, q in ROUND_FILTERS.items()})
    due = found["due"]
    return {**found, "percent": round(100.0 * found["done"] / due, 1) if due else None}


# -------------------------------------------------------------------------------------------------- expiries

def expiring_warranties(user, day: date, within_days: int = 90, filters: Filters | None = None) -> QuerySet:
    """Devices in service whose warranty ends in [day, day + within_days]."""
    qs = Device.objects.filter(retired_at__isnull=True, warranty_end__gte=day,
                               warranty_end__lte=day + timedelta(days=within_days))
    return visible(_device_filters(qs, filters), user)


def expiring_contracts(user, day: date, within_days: int = 90, filters: Filters | None = None) -> QuerySet:
    """Contracts with a coverage period ending in [day, day + within_days] that no later period renews."""
    ending = CoveragePeriod.objects.filter(contract=OuterRef("pk"), renewed_by__isnull=True, ends_on__gte=day,
                                           ends_on__lte=day + timedelta(days=within_days))
    qs = ServiceContract.objects.filter(Exists(ending))
    if filters is not None:
        qs = _matching(qs, filters, customer="project__customer_id", branch="project__branch_id")
    return visible(qs, user)


def expiries(user, day: date, within_days: int = 90, filters: Filters | None = None) -> dict:
    """{"warranties": count, "contracts": count} ending in [day, day + within_days]. Two queries."""
    return {"warranties": expiring_warranties(user, day, within_days, filters).count(),
            "contracts": expiring_contracts(user, day, within_days, filters).count()}


# -------------------------------------------------------------------------------------------------- failures

def _device_filters(qs: QuerySet, filters: Filters | None, prefix: str = "") -> QuerySet:
    if filters is None:
        return qs
    qs = _matching(qs, filters, customer=f"{prefix}project__customer_id", project=f"{prefix}project_id",
                   branch=f"{prefix}project__branch_id")
    if filters.device_model:
        qs = qs.filter(**{f"{prefix}model": filters.device_model})
    return qs


def failed_devices(user, filters: Filters) -> QuerySet:
    """(request, device) pairs: each device named on a request opened in the period is one failure."""
    through = ServiceRequest.devices.through
    qs = through.objects.filter(servicerequest__in=requests(user, filters).values("pk"))
    if filters.device_model:
        qs = qs.filter(device__model=filters.device_model)
    return qs


def installed_devices(user, filters: Filters) -> QuerySet:
    """Devices in service during the period: installed before its end (or no date known), not retired before it."""
    _first, after = _local_days(filters.period)
    qs = Device.objects.filter(Q(installed_on__isnull=True) | Q(installed_on__lt=after),
                               Q(retired_at__isnull=True) | Q(retired_at__gte=filters.period.start))
    return visible(_device_filters(qs, filters), user)


def failures_by_model(user, filters: Filters) -> list[dict]:
    """Per (manufacturer, model) with failures: failures, installed (units in service in the period), per_unit
    (failures / installed) and mtbf_days (installed × days in the period / failures: unit-days of service per
    failure), most failures first. Two queries."""
    failed = (failed_devices(user, filters)
              .values(manufacturer=F("device__manufacturer__name"), model=F("device__model"))
              .annotate(failures=Count("pk")).order_by())
    installed = {(m, model): n for m, model, n in installed_devices(user, filters)
                 .values_list("manufacturer__name", "model").annotate(n=Count("pk")).order_by()}
    days = (filters.period.end - filters.period.start).total_seconds() / 86400
    out = []
    for row in failed:
        units = installed.get((row["manufacturer"], row["model"]), 0)
        out.append({**row, "installed": units,
                    "per_unit": round(row["failures"] / units, 3) if units else None,
                    "mtbf_days": round(units * days / row["failures"], 1) if units else None})
    out.sort(key=lambda r: (-r["failures"], r["manufacturer"] or "", r["model"]))
    return out


# --------------------------------------------------------------------------------------------- warranty costs

def charge_lines(user, filters: Filters) -> QuerySet:
    """Charge lines of the sheets issued in the period, of work orders on the matching requests or of repair cases
    of the matching customer, project and branch (a priority or engineer filter keeps work orders only)."""
    period = filters.period
    of_requests = Q(sheet__work_order__request__in=requests(user, filters, in_period=False).values("pk"))
    scope = of_requests
    if filters.priority is None and filters.engineer_id is None:
        cases = _matching(RepairCase.objects.all(), filters, project="device__project_id")
        scope = scope | Q(sheet__repair_case__in=visible(cases, user).values("pk"))
    qs = ChargeLine.objects.filter(scope, sheet__issued_at__gte=period.start, sheet__issued_at__lt=period.end)
    if filters.device_model:
        qs = qs.filter(sheet__device__model=filters.device_model)
    return qs


MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Value(Decimal("0.00"), output_field=MONEY)


def warranty_costs(user, filters: Filters) -> list[dict]:
    """Per (customer, device model): under_warranty_cost and after_warranty_cost (our cost of the covered and the
    uncovered lines), customer_charged (what the customer pays), lines. One query."""
    qs = (charge_lines(user, filters)
          .annotate(cid=Coalesce("sheet__work_order__request__customer_id", "sheet__repair_case__customer_id"),
                    cname=Coalesce("sheet__work_order__request__customer__name", "sheet__repair_case__customer__name"),
                    dmodel=Coalesce("sheet__device__model", Value("")))
          .values("cid", "cname", "dmodel")
          .annotate(under=Coalesce(Sum("integrator_cost", filter=Q(covered=True)), ZERO),
                    after=Coalesce(Sum("integrator_cost", filter=Q(covered=False)), ZERO),
                    charged=Coalesce(Sum("customer_amount"), ZERO), lines=Count("pk"))
          .order_by("cname", "dmodel"))
    cents = Decimal("0.01")  # SQLite's SUM drops the scale
    return [{"customer_id": row["cid"], "customer": row["cname"], "model": row["dmodel"],
             "under_warranty_cost": Decimal(row["under"]).quantize(cents),
             "after_warranty_cost": Decimal(row["after"]).quantize(cents),
             "customer_charged": Decimal(row["charged"]).quantize(cents), "lines": row["lines"]} for row in qs]


# ------------------------------------------------------------------------------------------------ drill-down

SLA_CELLS = {"sla_n": None, "sla_met": MET, "sla_missed": MISSED, "sla_undecided": UNDECIDED}


def _sla_rows(cell, user, filters, target=None, priority=None):
    if target not in KIND_ORDER or priority not in Priority.values:
        raise Http404
    base = requests(user, filters).filter(priority=priority)
    applicable = applicable_targets(user, filters).filter(kind=target, request__priority=priority)
    if cell == "sla_n":
        return base
    if cell == "sla_not_applicable":
        return base.exclude(pk__in=applicable.values("request_id"))
    return base.filter(pk__in=applicable.filter(SLA_CELLS[cell]).values("request_id"))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def open_assigned(user, filters: Filters) -> QuerySet:
    """The open requests assigned to the filters' engineer, whenever opened (the managers' home: open assignments)."""
    return requests(user, filters, in_period=False).filter(state__in=OPEN_STATES)


def on_site_visits(user, filters: Filters) -> QuerySet:
    """The visits that arrived in the period and have left, of the filters' engineer (the visit's, not the request's
    assignee): the managers' home sums left_at − arrived_at over exactly these."""
    of_requests = requests(user, replace(filters, engineer_id=None), in_period=False)
    visits = Visit.objects.filter(arrived_at__gte=filters.period.start, arrived_at__lt=filters.period.end,
                                  left_at__isnull=False, request__in=of_requests.values("pk"))
    if filters.engineer_id is not None:
        visits = visits.filter(engineer_id=filters.engineer_id)
    return visits


FIGURES = {
    # figure: (model shown, function(user, filters, **key) -> queryset)
    "sla_n": (ServiceRequest, lambda u, f, **k: _sla_rows("sla_n", u, f, **k)),
    "sla_met": (ServiceRequest, lambda u, f, **k: _sla_rows("sla_met", u, f, **k)),
    "sla_missed": (ServiceRequest, lambda u, f, **k: _sla_rows("sla_missed", u, f, **k)),
    "sla_undecided": (ServiceRequest, lambda u, f, **k: _sla_rows("sla_undecided", u, f, **k)),
    "sla_not_applicable": (ServiceRequest, lambda u, f, **k: _sla_rows("sla_not_applicable", u, f, **k)),
    "escalations": (ServiceRequest, lambda u, f: requests(u, f, in_period=False).filter(
        pk__in=_escalation_alerts(u, f).values("request_id"))),
    "satisfaction": (WorkOrder, lambda u, f, score=None: rated_work_orders(u, f).filter(
        **({"satisfaction": _int(score)} if score not in (None, "") else {}))),
    "inspections": (InspectionRound, lambda u, f, state="due": due_rounds(u, f).filter(
        ROUND_FILTERS.get(state) if state in ROUND_FILTERS else Q(pk__in=[]))),
    "warranties": (Device, lambda u, f, day=None, within=90: expiring_warranties(
        u, _day(day, f), _int(within), f)),
    "contracts": (ServiceContract, lambda u, f, day=None, within=90: expiring_contracts(
        u, _day(day, f), _int(within), f)),
    "failures": (ServiceRequest.devices.through, lambda u, f, manufacturer=None, model=None: failed_devices(u, f).filter(
        device__manufacturer__name=manufacturer, device__model=model)),  # one row per failed unit, as counted
    "installed": (Device, lambda u, f, manufacturer=None, model=None: installed_devices(u, f).filter(
        manufacturer__name=manufacturer, model=model)),
    "warranty_costs": (ChargeLine, lambda u, f, customer=None, model=None, covered=None: _cost_rows(
        u, f, customer, model, covered)),
    "open_assigned": (ServiceRequest, open_assigned),
    "on_site": (Visit, on_site_visits),
    "device_requests": (ServiceRequest, lambda u, f, device=None: requests(u, f).filter(devices=_int(device))),
    # every target met or missed, whatever its kind and priority (the customer's month at a glance)
    "targets_met": (Target, lambda u, f: applicable_targets(u, f).filter(MET)),
    "targets_missed": (Target, lambda u, f: applicable_targets(u, f).filter(MISSED)),
}


def _day(value, filters: Filters) -> date:
    if value in (None, ""):
        return clock.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Http404 from None


def _cost_rows(user, filters, customer, model, covered):
    qs = charge_lines(user, filters).annotate(
        cid=Coalesce("sheet__work_order__request__customer_id", "sheet__repair_case__customer_id",
                     output_field=IntegerField()),
        dmodel=Coalesce("sheet__device__model", Value("")))
    if customer not in (None, ""):
        qs = qs.filter(cid=_int(customer))
    if model is not None:
        qs = qs.filter(dmodel=model)
    if covered in ("1", "0", True, False):
        qs = qs.filter(covered=covered in ("1", True))
    return qs


def rows(figure: str, user, filters: Filters, **key) -> QuerySet:
    """The rows behind one number, e.g. rows("sla_missed", user, filters, target="reply", priority="general"): the
    ServiceRequest queryset the cell counted. An unknown figure or key is a 404 (`Http404`)."""
    try:
        _model, make = FIGURES[figure]
    except KeyError:
        raise Http404 from None
    try:
        return make(user, filters, **key)
    except TypeError:  # a key the figure does not take
        raise Http404 from None
