"""Issue 24 §1: a home per role. Each home costs a fixed number of queries whatever the data size, and every
figure carries the URL of the rows it counts.

- desk (dispatchers): the open queue by risk, unassigned and overdue — one aggregate, links into the desk queue
  with the filter that shows exactly those rows (service.forms.DeskFilter: `risk`, `unassigned`);
- managers (department: their branch, through `visible()`; general: everything): the month against the month
  before, from reports/figures.py (helper A's), and here what figures.py has not: who is loaded (open assignments,
  time on site) and repeat faults;
- customers: their open requests, what awaits their answer, their month at a glance.

Requests opened in a period are read through `srq_customer_created` (customer, created_at): the customer filter
`customer_id IN (SELECT id FROM customers)` changes no row but lets SQLite seek each customer's range instead of
scanning every request (1M requests, 90 days of all branches: 1.2 s → 0.07 s).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.core.exceptions import BadRequest
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    Sum,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.accounts.models import DISPLAY_NAME_FIELDS, Branch, User
from aftersales.core.clock import SHANGHAI
from aftersales.core.scoping import visible
from aftersales.customers.models import Customer
from aftersales.service.forms import DeskFilter
from aftersales.service.models import (
    OPEN_STATES,
    AlertKind,
    Priority,
    ServiceRequest,
    SlaAlert,
    State,
    TargetKind,
    WorkOrder,
)
from aftersales.service.reports import Period

RISKS = ("overdue", "soon", "ok", "paused")
REPEAT_DAYS, REPEAT_AT_LEAST, REPEAT_SHOWN = 90, 3, 10
TREND_MONTHS = 6
WORKLOAD_SHOWN = 10
EXPIRY_DAYS = 90
OPEN_SHOWN = 10


def link(name: str, *args, **params) -> str:
    """The URL `name` with `params` as its query string (empty values left out)."""
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    url = reverse(name, args=args)
    return f"{url}?{query}" if query else url


def rows_link(figure: str, period: "Period", **params) -> str:
    """The rows a figure counts: the reports' drill-down page (/reports/rows/<figure>/?month=YYYY-MM&…)."""
    return link("reports:rows", figure, month=month_key(period), **params)


# --- months ------------------------------------------------------------------------------------

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_key(period: Period) -> str:
    return f"{period.start.year:04d}-{period.start.month:02d}"


def parse_month(value: str | None, today: date) -> Period:
    """`?month=YYYY-MM` (a local Asia/Shanghai month), this month when absent; anything else is a 400."""
    if not value:
        return Period.containing(today)
    match = MONTH.match(value)
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2999:
        raise BadRequest(_("Choose a month as YYYY-MM, for example 2026-11."))
    return Period.month(int(match[1]), int(match[2]))


def shift(period: Period, months: int) -> Period:
    index = period.start.year * 12 + period.start.month - 1 + months
    return Period.month(index // 12, index % 12 + 1)


def opened_between(queryset, start: datetime, end: datetime | None = None):
    """Requests opened in [start, end), read through srq_customer_created (see the module's docstring)."""
    queryset = queryset.filter(customer__in=Customer.objects.order_by().values("pk"), created_at__gte=start)
    return queryset if end is None else queryset.filter(created_at__lt=end)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


# --- desk --------------------------------------------------------------------------------------


def desk(user, now: datetime) -> dict:
    """One aggregate over the open requests of the user's scope: by risk, unassigned. Each count links to the
    desk queue filtered to exactly its rows."""
    counts = visible(ServiceRequest.objects.filter(state__in=OPEN_STATES), user).order_by().aggregate(
        total=Count("pk"), unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        **{risk: Count("pk", filter=DeskFilter.risk_q(risk, now)) for risk in RISKS})
    labels = {"overdue": _("Overdue"), "soon": _("Due soon"), "ok": _("On track"), "paused": _("Clock paused")}
    risks = [{"key": risk, "label": labels[risk], "n": counts[risk], "url": link("service:desk", risk=risk)}
             for risk in RISKS]
    return {
        "total": counts["total"], "total_url": reverse("service:desk"),
        "overdue": counts["overdue"], "overdue_url": link("service:desk", risk="overdue"),
        "unassigned": counts["unassigned"], "unassigned_url": link("service:desk", unassigned="true"),
        "risks": risks,
        "chart": {"kind": "pie", "series": [{"name": _("Open requests by risk"), "data": [
            {"name": each["label"], "value": each["n"], "url": each["url"], "key": each["key"]} for each in risks]}]},
    }


# --- managers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    period: Period
    previous: Period
    next: Period | None  # None when it would be in the future

    @property
    def key(self) -> str:
        return month_key(self.period)


def month_of(period: Period, today: date) -> Month:
    following = shift(period, 1)
    return Month(period, shift(period, -1), following if following.start.date() <= today else None)


def manager(user, period: Period, today: date) -> dict:
    """The manager's month page (issue 24 §1): about 16 queries whatever the data size. The month's compliance,
    warranties, contracts and inspections come from reports/figures.py; last month's compliance is counted with
    its definitions (applicable_targets, MET, MISSED) in one query, as the chart needs only the percentages."""
    from . import figures  # helper A's module

    last = shift(period, -1)
    this_filters = figures.Filters(period=period)
    return {
        "month": month_of(period, today),
        "compliance": compliance(figures.sla_compliance(user, this_filters),
                                 last_month_compliance(user, figures.Filters(period=last), figures), period, last),
        "escalations": escalations(user, period),
        "workload": workload(user, period),
        "satisfaction": satisfaction_trend(user, period),
        "repeat_faults": repeat_faults(user, period, today),
        "expiries": expiries(figures.expiries(user, today, within_days=EXPIRY_DAYS), period, today),
        "inspections": inspections(figures.inspection_completion(user, this_filters), period),
    }


def last_month_compliance(user, filters, figures) -> list[dict]:
    """Per (target, priority): applicable, met, missed and met_percent, as figures.sla_compliance counts them (one
    query: no pauses, no percentiles)."""
    rows = (figures.applicable_targets(user, filters).values("kind", prio=F("request__priority"))
            .annotate(applicable=Count("pk"), met=Count("pk", filter=figures.MET),
                      missed=Count("pk", filter=figures.MISSED)).order_by())
    return [{"target": row["kind"], "priority": row["prio"], "n": row["applicable"], "not_applicable": 0,
             "met": row["met"], "missed": row["missed"],
             "met_percent": round(100.0 * row["met"] / (row["met"] + row["missed"]), 1)
             if row["met"] + row["missed"] else None} for row in rows]


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def compliance(this: list[dict], last: list[dict], period: Period, previous: Period) -> dict:
    """This month against last per target and priority: met percent, met and missed counts, each linking to its
    rows. Targets in the order of the promise (reply, departure, arrival, resolution), priorities most urgent first."""
    order_target = {kind: i for i, kind in enumerate(TargetKind.values)}
    order_priority = {value: -i for i, value in enumerate(Priority.values)}
    keys = sorted({(row["target"], row["priority"]) for row in [*this, *last]},
                  key=lambda key: (order_target.get(key[0], 99), order_priority.get(key[1], 99)))
    by_key = [{(row["target"], row["priority"]): row for row in rows} for rows in (this, last)]
    rows = []
    for target, priority in keys:
        now_row, then_row = by_key[0].get((target, priority), {}), by_key[1].get((target, priority), {})
        if not any(row.get("n", 0) - row.get("not_applicable", 0) for row in (now_row, then_row)):
            continue  # the target applies to none of these requests in either month (say, phone-only service)

        def drill(when, cell="sla_n", target=target, priority=priority):
            return rows_link(cell, when, target=target, priority=priority)

        rows.append({
            "target": target, "priority": priority,
            "label": f"{_label(TargetKind, target)} · {_label(Priority, priority)}",
            "this": {"n": now_row.get("n", 0), "met": now_row.get("met", 0), "missed": now_row.get("missed", 0),
                     "percent": now_row.get("met_percent"), "url": drill(period),
                     "met_url": drill(period, "sla_met"), "missed_url": drill(period, "sla_missed")},
            "last": {"n": then_row.get("n", 0), "met": then_row.get("met", 0), "missed": then_row.get("missed", 0),
                     "percent": then_row.get("met_percent"), "url": drill(previous),
                     "met_url": drill(previous, "sla_met"), "missed_url": drill(previous, "sla_missed")},
        })
    chart = {"kind": "hbar", "unit": "%", "max": 100, "categories": [row["label"] for row in rows], "series": [
        {"name": _("Last month"), "data": [{"value": row["last"]["percent"], "url": row["last"]["url"]} for row in rows]},
        {"name": _("This month"), "data": [{"value": row["this"]["percent"], "url": row["this"]["url"]} for row in rows]},
    ]}
    return {"rows": rows, "chart": chart}


ESCALATIONS_SHOWN = 20


def escalations(user, period: Period) -> dict:
    """What escalated this month and why: the requests with an escalation alert fired in the month (the rows of
    figures' "escalations"), newest first, each with its highest level and the target whose miss fired it. Read
    from the requests of the scope joined to their alerts (SQLite walks the alerts and looks each request up:
    figures.escalations' `request IN (every request)` walks every request, 260 ms at 1M). Three queries."""
    fired = visible(ServiceRequest.objects.filter(alerts__kind=AlertKind.ESCALATION, alerts__fired_at__gte=period.start,
                                                  alerts__fired_at__lt=period.end), user).order_by()
    n = fired.aggregate(n=Count("pk", distinct=True))["n"]
    shown = list(fired.values("pk", "number", "title")
                 .annotate(level=Max("alerts__level"), fired_at=Max("alerts__fired_at"))
                 .order_by("-fired_at", "-pk")[:ESCALATIONS_SHOWN])
    why = {}
    for request_id, target, level in (SlaAlert.objects.filter(
            request_id__in=[row["pk"] for row in shown], kind=AlertKind.ESCALATION, fired_at__gte=period.start,
            fired_at__lt=period.end).order_by("level", "pk").values_list("request_id", "target", "level")):
        why[request_id] = target  # the last one read is the highest level's
    rows = [{**row, "target": why.get(row["pk"], ""), "url": reverse("service:request_detail", args=[row["pk"]]),
             "reason": _("%(target)s missed: escalated to level %(level)s") % {
                 "target": _label(TargetKind, why.get(row["pk"], "")), "level": row["level"]}} for row in shown]
    return {"n": n, "rows": rows, "url": rows_link("escalations", period)}


def workload(user, period: Period) -> dict:
    """Who is loaded: open assignments per assignee (srq_assignee_state / srq_queue), and time on site in the month
    (visits arrived in the month and left, left_at − arrived_at summed in SQL). Three queries."""
    requests = visible(ServiceRequest.objects.all(), user).order_by()
    # The open requests through srq_queue (branch, state): the branch filter changes no row but lets SQLite seek
    # each branch's open states (grouped directly, it walks srq_assignee_state over every request: 170 ms at 1M).
    open_ids = requests.filter(branch__in=Branch.objects.order_by().values("pk"), state__in=OPEN_STATES).values("pk")
    open_counts = dict(ServiceRequest.objects.filter(pk__in=open_ids, assignee__isnull=False).order_by()
                       .values_list("assignee").annotate(n=Count("pk")).values_list("assignee", "n"))
    on_site = ExpressionWrapper(F("visits__left_at") - F("visits__arrived_at"), output_field=DurationField())
    site_time = dict(requests.filter(visits__arrived_at__gte=period.start, visits__arrived_at__lt=period.end,
                                     visits__left_at__isnull=False)
                     .values_list("visits__engineer").annotate(t=Sum(on_site)).values_list("visits__engineer", "t"))
    ranked = sorted(set(open_counts) | set(site_time),
                    key=lambda pk: (-open_counts.get(pk, 0), -(site_time.get(pk) or timedelta()).total_seconds(), pk))
    ranked = ranked[:WORKLOAD_SHOWN]
    people = {person.pk: person for person in User.objects.filter(pk__in=ranked).only("pk", *DISPLAY_NAME_FIELDS)}
    rows = []
    for pk in ranked:
        hours = round((site_time.get(pk) or timedelta()).total_seconds() / 3600, 1)
        rows.append({"pk": pk, "name": people[pk].display_name if pk in people else str(pk),
                     "open": open_counts.get(pk, 0), "hours_on_site": hours,
                     "open_url": rows_link("open_assigned", period, engineer=pk),
                     "site_url": rows_link("on_site", period, engineer=pk)})
    return {"rows": rows, "chart": {"kind": "hbar", "categories": [row["name"] for row in rows], "series": [
        {"name": _("Open assignments"), "data": [{"value": row["open"], "url": row["open_url"]} for row in rows]},
        {"name": _("Hours on site this month"), "data": [{"value": row["hours_on_site"], "url": row["site_url"]}
                                                         for row in rows]}]}}


def satisfaction_trend(user, period: Period) -> dict:
    """The average satisfaction of the last six months: work orders confirmed in each month with a score (the rows
    of figures' "satisfaction"), one grouped query (figures.satisfaction six times: 6 × 0.5 s at 1M requests)."""
    months = [shift(period, -back) for back in range(TREND_MONTHS - 1, -1, -1)]
    within = [Q(confirmed_at__gte=each.start, confirmed_at__lt=each.end) for each in months]  # no per-row function
    found = visible(WorkOrder.objects.filter(satisfaction__isnull=False, confirmed_at__gte=months[0].start,
                                             confirmed_at__lt=period.end), user).order_by().aggregate(
        **{f"n{i}": Count("pk", filter=q) for i, q in enumerate(within)},
        **{f"a{i}": Avg("satisfaction", filter=q) for i, q in enumerate(within)})
    points = []
    for i, each in enumerate(months):
        average = found[f"a{i}"]
        points.append({"month": month_key(each), "n": found[f"n{i}"],
                       "average": round(float(average), 2) if average is not None else None,
                       "url": rows_link("satisfaction", each)})
    return {"points": points, "current": points[-1], "chart": {
        "kind": "line", "min": 1, "max": 5, "categories": [point["month"] for point in points],
        "series": [{"name": _("Average satisfaction"), "data": [{"value": point["average"], "url": point["url"]}
                                                               for point in points]}]}}


def repeat_faults(user, period: Period, today: date) -> dict:
    """Devices and projects with at least three requests opened in the 90 local days up to the month's last day
    (up to today in the current month): one grouped query each, the device's side through the request↔device
    table. Whole local days, so the request list's from/to days show exactly the requests counted."""
    last = min(local_day(period.end - timedelta(days=1)), today)
    first = last - timedelta(days=REPEAT_DAYS - 1)
    start = datetime.combine(first, time.min, tzinfo=SHANGHAI)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=SHANGHAI)
    requests = opened_between(visible(ServiceRequest.objects.all(), user).order_by(), start, end)
    devices = list(requests.filter(devices__isnull=False)
                   .values("devices", "devices__name", "devices__serial_number", "devices__project__name")
                   .annotate(n=Count("pk")).filter(n__gte=REPEAT_AT_LEAST).order_by("-n", "devices")[:REPEAT_SHOWN])
    projects = list(requests.values("project", "project__name").annotate(n=Count("pk"))
                    .filter(n__gte=REPEAT_AT_LEAST).order_by("-n", "project")[:REPEAT_SHOWN])
    for row in devices:
        row["url"] = link("reports:rows", "device_requests", device=row["devices"], date_from=first, date_to=last)
    for row in projects:
        row["url"] = link("service:request_list", project=row["project"], created_from=first, created_to=last)
    return {"devices": devices, "projects": projects, "days": REPEAT_DAYS, "at_least": REPEAT_AT_LEAST,
            "first": first, "last": last}


def expiries(counts: dict, period: Period, today: date) -> dict:
    return {"days": EXPIRY_DAYS, "warranties": counts.get("warranties", 0), "contracts": counts.get("contracts", 0),
            "warranties_url": rows_link("warranties", period, day=today, within=EXPIRY_DAYS),
            "contracts_url": rows_link("contracts", period, day=today, within=EXPIRY_DAYS)}


def inspections(result: dict, period: Period) -> dict:
    return {**result, **{f"{state}_url": rows_link("inspections", period, state=state)
                         for state in ("due", "done", "missed", "overridden")}}


# --- customers ---------------------------------------------------------------------------------


def customer(user, period: Period) -> dict:
    """The customer's home: their open requests, what awaits their answer, their month at a glance."""
    from aftersales.inspections.models import InspectionReport, ReportState
    from aftersales.proposals.models import HazardState, ProposalState
    from aftersales.proposals.selectors import visible_hazard_reports, visible_proposals
    from aftersales.service.views.queue import awaiting_confirmation

    requests = visible(ServiceRequest.objects.all(), user).order_by()
    open_requests = requests.filter(state__in=OPEN_STATES)
    month = requests.aggregate(
        opened=Count("pk", filter=Q(created_at__gte=period.start, created_at__lt=period.end)),
        closed=Count("pk", filter=Q(state=State.CLOSED, created_at__gte=period.start, created_at__lt=period.end)),
        open=Count("pk", filter=Q(state__in=OPEN_STATES)))
    shown = list(open_requests.order_by(F("customer_rank").asc(nulls_last=True), "-pk")
                 .only("pk", "number", "title", "state", "priority", "created_at")[:OPEN_SHOWN])
    reports = list(visible(InspectionReport.objects.filter(state=ReportState.AWAITING), user)
                   .select_related("round").only("pk", "issued_at", "round__id", "round__period_start")
                   .order_by("-issued_at")[:20])
    # issue 25 §4-§5: what awaits their answer in writing: hidden-danger reports to confirm, proposals to choose from
    hazards = list(visible_hazard_reports(user).filter(state=HazardState.AWAITING).order_by("-pk")[:20])
    proposals = list(visible_proposals(user).filter(state=ProposalState.SENT).order_by("-pk")[:20])
    from . import figures

    targets = figures.sla_compliance(user, figures.Filters(period=period, customer_id=user.customer_id))
    first, last = local_day(period.start), local_day(period.end - timedelta(days=1))
    return {
        "met": sum(row["met"] for row in targets), "missed": sum(row["missed"] for row in targets),
        "met_url": rows_link("targets_met", period), "missed_url": rows_link("targets_missed", period),

        "open_requests": shown, "open_count": month["open"],
        "open_url": link("service:request_list", state=""),
        "awaiting": awaiting_confirmation(user), "inspection_reports": reports,
        "hazard_reports": hazards, "proposals": proposals,
        "opened": month["opened"], "closed": month["closed"],
        "opened_url": link("service:request_list", created_from=first, created_to=last),
        "closed_url": link("service:request_list", created_from=first, created_to=last, state=State.CLOSED),
        "first": first, "last": last,
    }
