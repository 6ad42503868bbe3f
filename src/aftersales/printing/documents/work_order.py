"""SRQ-7: 售后服务报告单 — the work order as the customer signs it: the request, the devices, what was done, the parts
used, what the customer pays (never our cost), and the signature block (the PNG drawn on screen, the signer, the time
and how it was confirmed), or an empty box with 客户签字 / 日期 lines for a copy signed by hand."""

from aftersales.core.scoping import get_visible_or_404
from aftersales.service.models import (
    ConfirmedVia,
    Priority,
    ServiceMode,
    WorkOrder,
    WorkOrderState,
    WorkResult,
)
from aftersales.service.part_lines import lines_of

from .common import issuer, label, money, name_of, signature, when

TEMPLATE = "printing/work_order.html"
PERMISSION = "service.view_servicerequest"


def load(user, pk) -> WorkOrder:
    """The work order with everything its form prints: 4 queries whatever the number of devices and lines."""
    work_order = get_visible_or_404(
        WorkOrder.objects.select_related("request__project__customer", "request__project__branch",
                                         "request__reporter", "engineer", "confirmed_by", "charge_sheet"),
        user, pk=pk)
    request = work_order.request
    work_order.devices = list(request.devices.order_by("pk"))
    work_order.visit_rows = list(request.visits.filter(engineer_id=work_order.engineer_id).order_by("pk"))
    work_order.lines = lines_of([work_order])[work_order.pk]
    work_order.picture = signature(work_order.signature)
    return work_order


def sheet_of(work_order):
    try:
        return work_order.charge_sheet
    except WorkOrder.charge_sheet.RelatedObjectDoesNotExist:
        return None


def number(work_order) -> str:
    return f"{work_order.request.number}-{work_order.pk}"


def filename(work_order) -> str:
    return f"售后服务报告单-{number(work_order)}.pdf"


def facts(work_order, user) -> dict:
    request, project = work_order.request, work_order.request.project
    sheet = sheet_of(work_order)
    confirmed = work_order.state == WorkOrderState.CONFIRMED
    return {
        "form": "work_order",
        "issuer": issuer(project.branch),
        "number": number(work_order),
        "request": request.number,
        "customer": project.customer.name,
        "project": project.name,
        "contract_number": project.contract_number,
        "site_address": project.site_address,
        "reporter": request.reporter_name or name_of(request.reporter),
        "reporter_phone": request.reporter_phone or getattr(request.reporter, "phone", ""),
        "received_at": when(request.created_at),
        "priority": label(Priority, request.priority),
        "service_mode": label(ServiceMode, request.service_mode),
        "title": request.title,
        "description": request.description,
        "devices": [{"name": d.name, "model": d.model, "serial_number": d.serial_number, "location": d.location}
                    for d in work_order.devices],
        "engineer": name_of(work_order.engineer),
        "engineer_phone": work_order.engineer.phone,
        "visits": [{"arrived_at": when(v.arrived_at), "left_at": when(v.left_at)}
                   for v in work_order.visit_rows if v.arrived_at],
        "written_at": when(work_order.created_at),
        "actions": work_order.actions,
        "parts": [{"name": line.part.name, "part_number": line.part.part_number, "quantity": line.quantity,
                   "serials": list(line.serials or []), "corrected": bool(line.corrected)}
                  for line in work_order.lines],
        "parts_note": work_order.parts_used,
        "minutes_spent": work_order.minutes_spent,
        "result": label(WorkResult, work_order.result),
        "state": label(WorkOrderState, work_order.state),
        "state_code": work_order.state,
        # What the customer pays, and why (the charge sheet's own form prints the lines; our cost is never here).
        "charges": None if sheet is None else {"customer_total": money(sheet.customer_total),
                                               "coverage": sheet.coverage},
        "confirmation": {
            "confirmed": confirmed,
            "signer": work_order.signer_name or (name_of(work_order.confirmed_by) if confirmed else ""),
            "at": when(work_order.confirmed_at),
            "via": label(ConfirmedVia, work_order.confirmed_via),
            "satisfaction": work_order.satisfaction,
            "comment": work_order.customer_comment,
            "rejection_reason": work_order.rejection_reason,
            "signature_sha256": work_order.picture.sha256,
        },
    }


def context(work_order, user) -> dict:
    return {"signature_src": work_order.picture.src}
