"""Issue 24 §4: the facts of one customer's month — everything the monthly proof of service states, as JSON-able data.

Every figure carries the rows it counts (`{"n": 2, "rows": ["SR…", …]}`, or ids for rows without a number), and
every row is listed in its section with its id, so the web page links each figure to its rows and the PDF's embedded
`evidence.json` lets anyone recount it.

Scope: the facts are built with a customer contact's scope — every query goes through `visible(queryset, contact)`,
or, for the rows a customer reaches through a parent (targets, pauses, visits, charge sheets), filters on the visible
parents. A customer with no active contact is built with that customer's own `Scope` value (core.scoping), exactly
what a contact of theirs would get. Staff's notes (pause authors, internal costs, stock movements) are not facts: the
customer sees what they pay, not what it cost us.

Which rows are the month (a `Period`, half-open, Asia/Shanghai): requests opened in it (index srq_customer_created),
inspection rounds due in it, repair cases and loans that were open at any time in it, charge sheets issued in it,
the month's surveys, training sessions starting in it. A fixed number of queries whatever the data size: one per kind
of row, never one per request.
"""

from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from aftersales.accounts.models import display_name
from aftersales.billing.models import ChargeLine, ChargeSheet
from aftersales.core import clock
from aftersales.core.scoping import CUSTOMER, Scope, scope_of
from aftersales.inspections.models import Answer, InspectionRound, RoundState
from aftersales.repairs.models import Loan, RepairCase
from aftersales.service.models import (
    AlertKind,
    Pause,
    ServiceRequest,
    SlaAlert,
    Target,
    TargetKind,
    Visit,
    WorkOrder,
    WorkOrderState,
)
from aftersales.service.reports import Period
from aftersales.training.models import TrainingSession
from aftersales.visits.models import Survey

FORMAT = 1  # bumped when the shape of the facts changes
TARGET_ORDER = [TargetKind.REPLY, TargetKind.DEPARTURE, TargetKind.ARRIVAL, TargetKind.RESOLUTION]


class ScopeMismatch(ValueError):
    """The contact given is not a contact of the customer: the report would show someone else's rows."""


def scope_for(customer, contact) -> Scope:
    """The scope the report is built with: the contact's own, which must be exactly this customer's."""
    scope = scope_of(contact) if contact is not None else Scope(CUSTOMER, (customer.pk,))
    if scope != Scope(CUSTOMER, (customer.pk,)):
        raise ScopeMismatch(f"user {getattr(contact, 'pk', None)} does not have customer {customer.pk}'s scope")
    return scope


def local(value: datetime | None) -> str | None:
    return value.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else None


def figure(rows) -> dict:
    rows = list(rows)
    return {"n": len(rows), "rows": rows}


def money(value) -> str:
    return f"{value:.2f}"


def build(customer, period: Period, contact) -> dict:
    scope = scope_for(customer, contact)
    start, end = period.start, period.end
    local_start = start.astimezone(clock.SHANGHAI)
    return {
        "format": FORMAT,
        "timezone": "Asia/Shanghai",
        "customer": {"id": customer.pk, "name": customer.name},
        "period": {"year": local_start.year, "month": local_start.month, "start": local(start), "end": local(end)},
        "scope": {"kind": scope.kind, "ids": list(scope.ids), "contact": contact.pk if contact is not None else None},
        "requests": requests_section(scope, customer, start, end),
        "inspections": inspections_section(scope, customer, start, end),
        "repairs": repairs_section(scope, customer, start, end),
        "charges": charges_section(scope, customer, start, end),
        "surveys": surveys_section(scope, customer, start),
        "training": training_section(scope, customer, start, end),
    }


# --------------------------------------------------------------------------------------------------- requests

def requests_section(scope, customer, start, end) -> dict:
    requests = scope.apply(ServiceRequest.objects.filter(customer_id=customer.pk, created_at__gte=start,
                                                         created_at__lt=end))
    ids = requests.values("pk")
    rows = list(requests.select_related("project").order_by("created_at", "pk").values(
        "pk", "number", "title", "priority", "state", "created_at", "resolved_at", "closed_at", "contingency_plan",
        "escalation_level", "project__name", "project__contract_number"))
    by_id = {}
    for row in rows:
        by_id[row["pk"]] = {
            "id": row["pk"], "number": row["number"], "title": row["title"], "priority": row["priority"],
            "state": row["state"], "opened_at": local(row["created_at"]), "resolved_at": local(row["resolved_at"]),
            "closed_at": local(row["closed_at"]), "contingency_plan": row["contingency_plan"],
            "project": {"name": row["project__name"], "contract_number": row["project__contract_number"]},
            "devices": [], "targets": {}, "pauses": [], "escalations": [], "visits": [], "work_orders": [],
        }
    devices = ServiceRequest.devices.through.objects.filter(servicerequest_id__in=ids).order_by("device__name", "pk")
    for request_id, name, serial in devices.values_list("servicerequest_id", "device__name", "device__serial_number"):
        by_id[request_id]["devices"].append({"name": name, "serial": serial})
    for t in Target.objects.filter(request__in=ids).order_by("request_id", "pk").values(
            "request_id", "kind", "started_at", "due_at", "met_at", "breached_at", "appointed_at"):
        by_id[t["request_id"]]["targets"][t["kind"]] = {
            "started_at": local(t["started_at"]), "due_at": local(t["due_at"]), "met_at": local(t["met_at"]),
            "appointed_at": local(t["appointed_at"]), "breached_at": local(t["breached_at"]), "outcome": outcome(t)}
    for p in Pause.objects.filter(request__in=ids).order_by("request_id", "started_at", "pk").values(
            "pk", "request_id", "started_at", "ended_at", "reason"):
        by_id[p["request_id"]]["pauses"].append({"id": p["pk"], "started_at": local(p["started_at"]),
                                                 "ended_at": local(p["ended_at"]), "reason": p["reason"]})
    for a in SlaAlert.objects.filter(request__in=ids, kind=AlertKind.ESCALATION).order_by("request_id", "fired_at",
                                                                                         "pk").values(
            "pk", "request_id", "target", "level", "fired_at"):
        by_id[a["request_id"]]["escalations"].append({"id": a["pk"], "target": a["target"], "level": a["level"],
                                                      "fired_at": local(a["fired_at"])})
    for v in Visit.objects.filter(request__in=ids).order_by("request_id", "pk").values(
            "pk", "request_id", "departed_at", "arrived_at", "left_at", "arrival_proof", "arrival_distance_m",
            "engineer__full_name", "engineer__first_name", "engineer__last_name", "engineer__username"):
        by_id[v["request_id"]]["visits"].append({
            "id": v["pk"], "departed_at": local(v["departed_at"]), "arrived_at": local(v["arrived_at"]),
            "left_at": local(v["left_at"]), "arrival_proof": v["arrival_proof"],
            "arrival_distance_m": v["arrival_distance_m"],
            "engineer": display_name(v["engineer__full_name"], v["engineer__first_name"], v["engineer__last_name"],
                                     v["engineer__username"])})
    for w in WorkOrder.objects.filter(request__in=ids).order_by("request_id", "pk").values(
            "pk", "request_id", "result", "state", "minutes_spent", "confirmed_at", "confirmed_via", "signer_name",
            "satisfaction"):
        by_id[w["request_id"]]["work_orders"].append({
            "id": w["pk"], "result": w["result"], "state": w["state"], "minutes_spent": w["minutes_spent"],
            "confirmed_at": local(w["confirmed_at"]), "confirmed_via": w["confirmed_via"],
            "signer_name": w["signer_name"], "satisfaction": w["satisfaction"]})
    listed = list(by_id.values())
    targets = {}
    for kind in TARGET_ORDER:
        with_target = [r for r in listed if kind in r["targets"]]
        targets[kind] = {state: figure(r["number"] for r in with_target if r["targets"][kind]["outcome"] == state)
                         for state in ("met", "missed", "open")}
    signed = [r["number"] for r in listed
              if any(w["state"] == WorkOrderState.CONFIRMED and w["signer_name"] for w in r["work_orders"])]
    return {
        "figures": {
            "opened": figure(r["number"] for r in listed),
            "by_priority": {p: figure(r["number"] for r in listed if r["priority"] == p)
                            for p in ("emergency", "serious", "general")},
            "resolved": figure(r["number"] for r in listed if r["resolved_at"]),
            "paused": figure(r["number"] for r in listed if r["pauses"]),
            "escalated": figure(r["number"] for r in listed if r["escalations"]),
            "contingency": figure(r["number"] for r in listed if r["contingency_plan"]),
            "on_site": figure(r["number"] for r in listed if any(v["arrived_at"] for v in r["visits"])),
            "signed": figure(signed),
        },
        "targets": targets,
        "rows": listed,
    }


def outcome(target: dict) -> str:
    """met: met by its due time, no breach recorded; missed: a breach recorded or met late; open: neither yet (as in
    service/reports.py)."""
    if target["breached_at"] or (target["met_at"] and target["due_at"] and target["met_at"] > target["due_at"]):
        return "missed"
    return "met" if target["met_at"] else "open"


# ------------------------------------------------------------------------------------------------ inspections

def inspections_section(scope, customer, start, end) -> dict:
    first, last = start.astimezone(clock.SHANGHAI).date(), end.astimezone(clock.SHANGHAI).date()
    rounds = scope.apply(InspectionRound.objects.filter(customer_id=customer.pk, due_on__gte=first, due_on__lt=last))
    rows = []
    for r in rounds.order_by("due_on", "pk").values("pk", "due_on", "state", "completed_at", "missed_at",
                                                    "overridden_at", "override_reason", "plan__name", "project__name"):
        rows.append({"id": r["pk"], "number": f"XJ{r['pk']:06d}", "plan": r["plan__name"], "project": r["project__name"],
                     "due_on": r["due_on"].isoformat(), "state": r["state"], "completed_at": local(r["completed_at"]),
                     "missed_at": local(r["missed_at"]), "overridden_at": local(r["overridden_at"]),
                     "override_reason": r["override_reason"]})
    findings = []
    for a in (scope.apply(Answer.objects.filter(round__in=rounds.values("pk"), finding=True, is_current=True))
              .order_by("round_id", "pk").values("pk", "round_id", "item__label", "note", "device_check__device__name",
                                                 "answered_at")):
        findings.append({"id": a["pk"], "round": f"XJ{a['round_id']:06d}", "round_id": a["round_id"],
                         "item": a["item__label"], "device": a["device_check__device__name"], "note": a["note"],
                         "at": local(a["answered_at"])})
    return {
        "figures": {
            "due": figure(r["number"] for r in rows),
            "done": figure(r["number"] for r in rows if r["state"] == RoundState.DONE),
            "missed": figure(r["number"] for r in rows if r["state"] == RoundState.MISSED),
            "overridden": figure(r["number"] for r in rows if r["overridden_at"]),
            "pending": figure(r["number"] for r in rows if r["state"] not in (RoundState.DONE, RoundState.MISSED)),
            "findings": figure(f["id"] for f in findings),
        },
        "rows": rows,
        "findings": findings,
    }


# ---------------------------------------------------------------------------------------------------- repairs

def repairs_section(scope, customer, start, end) -> dict:
    open_in_month = Q(opened_at__lt=end) & (Q(ended_at__isnull=True) | Q(ended_at__gte=start))
    cases = scope.apply(RepairCase.objects.filter(open_in_month, customer_id=customer.pk))
    rows = [{"id": c["pk"], "number": f"RP{c['pk']:06d}", "device": c["device__name"], "serial": c["device__serial_number"],
             "state": c["state"], "opened_at": local(c["opened_at"]), "ended_at": local(c["ended_at"]),
             "request": c["service_request__number"]}
            for c in cases.order_by("opened_at", "pk").values("pk", "device__name", "device__serial_number", "state",
                                                              "opened_at", "ended_at", "service_request__number")]
    loans = scope.apply(Loan.objects.filter(Q(lent_at__lt=end) & (Q(returned_at__isnull=True) | Q(returned_at__gte=start)),
                                            case__customer_id=customer.pk))
    loan_rows = [{"id": loan["pk"], "case": f"RP{loan['case_id']:06d}", "case_id": loan["case_id"],
                  "unit": f"{loan['unit_model']} {loan['unit_serial']}", "lent_at": local(loan["lent_at"]),
                  "due_back_on": loan["due_back_on"].isoformat(), "returned_at": local(loan["returned_at"])}
                 for loan in loans.order_by("lent_at", "pk").values("pk", "case_id", "unit_model", "unit_serial",
                                                                    "lent_at", "due_back_on", "returned_at")]
    return {
        "figures": {
            "opened": figure(r["number"] for r in rows if r["opened_at"] >= local(start)),
            "closed": figure(r["number"] for r in rows if r["ended_at"] and r["ended_at"] < local(end)),
            "loans": figure(loan["id"] for loan in loan_rows),
        },
        "rows": rows,
        "loans": loan_rows,
    }


# ---------------------------------------------------------------------------------------------------- charges

def charges_section(scope, customer, start, end) -> dict:
    """What the customer pays: the charge sheets issued in the month, of their work orders and repair cases. Our
    costs (integrator_total, integrator_cost) are never read."""
    work_orders = scope.apply(WorkOrder.objects.filter(request__customer_id=customer.pk)).values("pk")
    cases = scope.apply(RepairCase.objects.filter(customer_id=customer.pk)).values("pk")
    sheets = ChargeSheet.objects.filter(Q(work_order__in=work_orders) | Q(repair_case__in=cases),
                                        issued_at__gte=start, issued_at__lt=end)
    rows = {}
    for s in sheets.order_by("issued_at", "pk").values("pk", "work_order_id", "work_order__request__number",
                                                       "repair_case_id", "customer_total", "issued_at", "coverage"):
        rows[s["pk"]] = {"id": s["pk"], "work_order": s["work_order_id"], "request": s["work_order__request__number"],
                         "repair_case": f"RP{s['repair_case_id']:06d}" if s["repair_case_id"] else None,
                         "repair_case_id": s["repair_case_id"], "customer_total": money(s["customer_total"]),
                         "issued_at": local(s["issued_at"]), "coverage": s["coverage"], "lines": []}
    parts = []
    for line in ChargeLine.objects.filter(sheet__in=sheets.values("pk")).order_by("sheet_id", "pk").values(
            "pk", "sheet_id", "kind", "description", "quantity", "customer_amount", "covered"):
        entry = {"id": line["pk"], "kind": line["kind"], "description": line["description"],
                 "quantity": f"{line['quantity']:g}", "customer_amount": money(line["customer_amount"]),
                 "covered": line["covered"]}
        rows[line["sheet_id"]]["lines"].append(entry)
        if line["kind"] == "part":
            parts.append(line["pk"])
    listed = list(rows.values())
    total = sum((Decimal(s["customer_total"]) for s in listed), Decimal(0))
    return {
        "figures": {
            "sheets": figure(s["id"] for s in listed),
            "charged": figure(s["id"] for s in listed if Decimal(s["customer_total"]) > 0),
            "parts": figure(parts),
            "total": {"amount": f"{total:.2f}", "rows": [s["id"] for s in listed]},
        },
        "rows": listed,
    }


# ---------------------------------------------------------------------------------------------------- surveys

def surveys_section(scope, customer, start) -> dict:
    month = start.astimezone(clock.SHANGHAI).date()
    surveys = scope.apply(Survey.objects.filter(customer_id=customer.pk, period=month))
    rows = [{"id": s["pk"], "project": s["project_name"], "state": s["state"], "satisfaction": s["satisfaction"],
             "abnormal": s["abnormal"], "answered_at": local(s["answered_at"])}
            for s in surveys.order_by("pk").values("pk", "project_name", "state", "satisfaction", "abnormal",
                                                    "answered_at")]
    scores = [r["satisfaction"] for r in rows if r["satisfaction"]]
    return {
        "figures": {
            "sent": figure(r["id"] for r in rows),
            "answered": figure(r["id"] for r in rows if r["answered_at"]),
            "abnormal": figure(r["id"] for r in rows if r["abnormal"]),
            "average_satisfaction": {"value": round(sum(scores) / len(scores), 1) if scores else None,
                                     "rows": [r["id"] for r in rows if r["satisfaction"]]},
        },
        "rows": rows,
    }


# --------------------------------------------------------------------------------------------------- training

def training_section(scope, customer, start, end) -> dict:
    sessions = scope.apply(TrainingSession.objects.filter(customer_id=customer.pk, starts_at__gte=start,
                                                          starts_at__lt=end))
    rows = [{"id": s["pk"], "number": f"PX{s['pk']:05d}", "title": s["title"], "kind": s["kind"], "state": s["state"],
             "starts_at": local(s["starts_at"]), "held_at": local(s["held_at"]), "project": s["project__name"],
             "feedback_rating": s["feedback__rating"], "feedback_signer": s["feedback__signer_name"] or "",
             "feedback_signed_at": local(s["feedback__signed_at"])}
            for s in sessions.order_by("starts_at", "pk").values(
                "pk", "title", "kind", "state", "starts_at", "held_at", "project__name", "feedback__rating",
                "feedback__signer_name", "feedback__signed_at")]
    return {
        "figures": {
            "planned": figure(r["id"] for r in rows),
            "held": figure(r["id"] for r in rows if r["held_at"]),
            "signed": figure(r["id"] for r in rows if r["feedback_signed_at"]),
        },
        "rows": rows,
    }


def row_counts(facts: dict) -> dict[str, int]:
    """How many rows each section lists (for the list page and the log)."""
    return {name: len(facts.get(name, {}).get("rows", []))
            for name in ("requests", "inspections", "repairs", "charges", "surveys", "training")}
