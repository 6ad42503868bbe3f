"""CUS-5: 收费单 — the charge sheet of a work order or of a repair case, as issued by the billing rule. The customer sees
what they pay and why; our staff also see our own cost of every line (the rule the pages keep: a customer never sees
the integrator's cost, on paper either)."""

from django.utils.translation import gettext as _

from aftersales.billing.models import ChargeSheet
from aftersales.billing.rule import Basis, LineKind
from aftersales.core.scoping import get_visible_or_404, is_staff_member
from aftersales.repairs.models import RepairCase
from aftersales.service.models import WorkOrder

from .common import day, issuer, money, when

TEMPLATE = "printing/charge_sheet.html"
WORK_ORDER_PERMISSION = "service.view_servicerequest"
REPAIR_PERMISSION = "repairs.view_repaircase"


class NoSheet(Exception):
    """The job has no charge sheet (yet): the form does not exist."""


def load_for_work_order(user, pk) -> ChargeSheet:
    """Three queries: the work order with its project and sheet, the sheet's lines."""
    work_order = get_visible_or_404(
        WorkOrder.objects.select_related("request__project__customer", "request__project__branch", "charge_sheet",
                                         "charge_sheet__device"), user, pk=pk)
    sheet = sheet_or_none(work_order)
    if sheet is None:
        raise NoSheet
    sheet.job_number = f"{work_order.request.number}-{work_order.pk}"
    sheet.job_kind = "work_order"
    sheet.project = work_order.request.project
    sheet.line_rows = lines_of(sheet)
    return sheet


def load_for_repair(user, pk) -> ChargeSheet:
    case = get_visible_or_404(
        RepairCase.objects.select_related("device__project__customer", "device__project__branch", "charge_sheet",
                                          "charge_sheet__device"), user, pk=pk)
    sheet = sheet_or_none(case)
    if sheet is None:
        raise NoSheet
    sheet.job_number = case.number
    sheet.job_kind = "repair_case"
    sheet.project = case.device.project
    sheet.line_rows = lines_of(sheet)
    return sheet


def sheet_or_none(job):
    try:
        return job.charge_sheet
    except ChargeSheet.DoesNotExist:
        return None


def lines_of(sheet) -> list:
    return [] if sheet is None else list(sheet.lines.order_by("pk"))


def filename(sheet) -> str:
    return f"收费单-{sheet.job_number}.pdf"


def line_text(line) -> str:
    if line.kind == LineKind.LABOUR:
        return _("Labour (minutes)")
    if line.kind == LineKind.ONSITE:
        return _("On-site service (visits)")
    return line.description


def basis_text(line) -> str:
    return {
        Basis.COVERED: _("covered: free"),
        Basis.PURCHASE_COST: _("after coverage: purchase cost"),
        Basis.NO_LABOUR_FEE: _("no labour fee"),
        Basis.NO_SERVICE_FEE: _("no service fee"),
    }.get(line.basis) or _("exception approved by %(name)s") % {"name": line.reference}


def coverage_text(sheet) -> str:
    if sheet.coverage:
        return _("Covered that day by %(coverage)s") % {"coverage": sheet.coverage}
    if sheet.device_id:
        return _("Not covered that day: original parts at their purchase cost only, no service or labour fee.")
    return _("No device named: charged as not covered (original parts at their purchase cost only).")


def facts(sheet, user) -> dict:
    """Staff see our cost, unless they print the customer's copy (`sheet.customer_copy`); a customer's user never
    does. The same record gives two forms, hence two hashes: the internal copy and the customer's."""
    with_cost = is_staff_member(user) and not getattr(sheet, "customer_copy", False)
    project, device = sheet.project, sheet.device
    lines = []
    for line in sheet.line_rows:
        row = {"kind": line.kind, "item": line_text(line), "quantity": f"{line.quantity.normalize():f}",
               "customer_amount": money(line.customer_amount), "basis": basis_text(line)}
        if with_cost:
            row["integrator_cost"] = money(line.integrator_cost)
        lines.append(row)
    stated = {
        "form": "charge_sheet",
        "issuer": issuer(project.branch),
        "number": sheet.job_number,
        "job": sheet.job_kind,
        "customer": project.customer.name,
        "project": project.name,
        "contract_number": project.contract_number,
        "fault_day": day(sheet.fault_day),
        "device": "" if device is None else f"{device.name} {device.model} {device.serial_number}".strip(),
        "coverage": coverage_text(sheet),
        "issued_at": when(sheet.issued_at),
        "lines": lines,
        "customer_total": money(sheet.customer_total),
        "with_cost": with_cost,
    }
    if with_cost:
        stated["integrator_total"] = money(sheet.integrator_total)
    return stated


def context(sheet, user) -> dict:
    return {}
