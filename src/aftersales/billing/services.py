"""CUS-5: issuing the charge sheet of a work order or of a repair case (billing/rule.py decides, this module gathers
the facts and stores the result). Called by the work-order verb inside its transaction, so a work order never exists
without its sheet; and by the repair verbs whenever a case's device is back in service or the case is cancelled, so
every repair ends with a sheet that records what the repair cost us, even when the customer pays nothing.

The facts: the day of the fault is the local day the request was received; the coverage is that of the request's
first affected device covered that day (else its first device, uncovered; a request naming no device is charged as
not covered, and the sheet says no device was named); the parts are the work order's part lines at the purchase cost
of their movements; labour is the work order's minutes; on-site service one visit when the engineer arrived on site.
A repair case's sheet has the parts its steps took from stock (a replacement unit) on the day of its fault (the day
its request was received, else the day the case was opened), with the coverage of the case's device that day; its
labour and visits are on the work orders of its request, not counted twice. The integrator's own hourly and per-visit
costs come from settings (AFTERSALES_LABOUR_COST_PER_HOUR,
AFTERSALES_ONSITE_COST_PER_VISIT; 0 when not set), so warranty work has a cost even when the customer pays nothing."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import translation

from django.utils.translation import gettext as _

from aftersales.contracts.coverage import coverage_on
from aftersales.contracts.models import CoverageKind
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition

from . import rule
from .models import ChargeLine, ChargeSheet


def fault_day(request):
    return request.created_at.astimezone(clock.SHANGHAI).date()


def covering(request, day):
    """(device, coverage) for the sheet: the first affected device covered on `day`, else the first device and None;
    (None, None) when the request names no device."""
    devices = list(request.devices.order_by("pk"))
    for device in devices:
        if (coverage := coverage_on(device, day)) is not None:
            return device, coverage
    return (devices[0] if devices else None), None


def coverage_text(coverage) -> str:
    """The covering periods as the record states them, in the product's language (a record, not a page)."""
    if coverage is None:
        return ""
    with translation.override(settings.LANGUAGE_CODE):
        return "; ".join(
            f"{period.contract_number or CoverageKind(period.kind).label} → {period.ends_on.isoformat()}"
            for period in coverage.periods)[:300]


def setting_cost(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name, 0) or 0))


def issue_for_work_order(work_order, movements) -> ChargeSheet:
    """The sheet of `work_order` (just created by the verb, in its transaction) with `movements`, its part lines."""
    request = work_order.request
    day = fault_day(request)
    device, coverage = covering(request, day)
    return write_sheet(
        {"work_order": work_order}, day=day, device=device, coverage=coverage, movements=movements,
        labour_minutes=work_order.minutes_spent,
        onsite_visits=1 if request.visits.filter(engineer=work_order.engineer, arrived_at__isnull=False).exists() else 0)


def write_sheet(owner: dict, *, day, device, coverage, movements, labour_minutes=0, onsite_visits=0) -> ChargeSheet:
    """The rule's sheet for these facts, stored for `owner` ({"work_order": …} or {"repair_case": …})."""
    sheet = rule.charge_sheet(
        fault_day=day,
        coverage=None if coverage is None else rule.Coverage(parts=coverage.parts, labour=coverage.labour,
                                                             onsite=coverage.onsite, label=coverage_text(coverage)),
        parts=[rule.PartUsed(movement.part.name, movement.quantity, movement.unit_cost, reference=str(movement.pk))
               for movement in movements],
        labour_minutes=labour_minutes,
        onsite_visits=onsite_visits,
        labour_cost_per_hour=setting_cost("AFTERSALES_LABOUR_COST_PER_HOUR"),
        onsite_cost_per_visit=setting_cost("AFTERSALES_ONSITE_COST_PER_VISIT"),
    )
    stored = ChargeSheet.objects.create(
        **owner, fault_day=day, device=device, coverage=coverage_text(coverage),
        customer_total=sheet.customer_total, integrator_total=sheet.integrator_total, issued_at=clock.now())
    by_pk = {str(movement.pk): movement for movement in movements}
    ChargeLine.objects.bulk_create([
        ChargeLine(sheet=stored, kind=line.kind, description=line.description[:200], quantity=line.quantity,
                   customer_amount=line.customer_amount, integrator_cost=line.integrator_cost, covered=line.covered,
                   basis=line.basis, movement=by_pk.get(line.reference) if line.kind == rule.LineKind.PART else None,
                   reference=line.reference[:100])
        for line in sheet.lines])
    return stored


def reissue_for_work_order(work_order) -> ChargeSheet:
    """The sheet again, from the work order's current part lines (a part used on it later, through the parts API),
    in the caller's transaction — only while it awaits the customer's confirmation: what was confirmed is final."""
    must_await_confirmation(work_order, field="work_order", message=_(
        "The parts of a work order change only while it awaits the customer's confirmation: its charge sheet is "
        "final once confirmed."))
    exceptions = drop_sheet(ChargeSheet.objects.filter(work_order=work_order))
    return keep_exceptions(issue_for_work_order(work_order, parts_used(work_order=work_order)), exceptions)


def drop_sheet(sheets) -> list:
    """Delete the sheet (its lines with it) about to be issued again; return its exceptions, to be kept."""
    exceptions = list(ChargeLine.objects.filter(sheet__in=sheets, kind=rule.LineKind.EXCEPTION)
                      .order_by("pk").values_list("customer_amount", "description", "reference"))
    sheets.delete()
    return exceptions


def keep_exceptions(sheet: ChargeSheet, exceptions) -> ChargeSheet:
    for amount, reason, approver in exceptions:  # a manager's exceptions stay, each still its own line
        write_exception(sheet, amount, reason, approver)
    return sheet


def parts_used(**job) -> list:
    """The parts a job used (its "used" movements, oldest first), without those reversed since."""
    from aftersales.parts.models import Movement, MovementKind

    return list(Movement.objects.filter(kind=MovementKind.USED, reversed_by__isnull=True, **job)
                .select_related("part").order_by("pk"))


def repair_fault_day(case):
    return fault_day(case.service_request) if case.service_request_id else case.opened_at.astimezone(clock.SHANGHAI).date()


def issue_for_repair(case) -> ChargeSheet:
    """The sheet of a repair case, in the caller's transaction (the repair verb's): issued when its device is back in
    service or the case is cancelled, and issued again — keeping a manager's exceptions — when the case comes back
    to that point after more work, or when a part it used is reversed in the ledger while the case is still open."""
    exceptions = drop_sheet(ChargeSheet.objects.filter(repair_case=case))
    day = repair_fault_day(case)
    return keep_exceptions(write_sheet({"repair_case": case}, day=day, device=case.device,
                                       coverage=coverage_on(case.device, day),
                                       movements=parts_used(repair_case=case)), exceptions)


def reissue_for_repair(case) -> ChargeSheet | None:
    """After a part of `case` was reversed in the ledger: its sheet again while the case is open (None when it has
    none yet: the sheet to come will count without the part); refused once the case has ended: that sheet is final."""
    must_be_open_repair(case, field="movement", message=_(
        "This part was used on a repair case that has ended: its charge sheet is final."))
    if not ChargeSheet.objects.filter(repair_case=case).exists():
        return None
    return issue_for_repair(case)


def must_be_open_repair(case, *, field: str | None = None, message=None) -> None:
    from aftersales.repairs.models import ENDED_STATES

    if case.state in ENDED_STATES:
        raise IllegalTransition(message or _("This repair case has ended: its charge sheet is final."), field=field)


@transaction.atomic
def reverse_movement(*, movement, by, reason: str) -> list:
    """Correct a ledger row (parts.services.reverse) and, when it was a part used on a work order or a repair case,
    issue that job's charge sheet again in the same transaction — or refuse the whole correction when the sheet is
    final (the customer confirmed the work order, the repair ended): a sheet never disagrees with the ledger."""
    from aftersales.parts import services as parts_services
    from aftersales.parts.models import MovementKind

    rows = parts_services.reverse(movement=movement, by=by, reason=reason)
    if movement.kind == MovementKind.USED:
        if movement.work_order_id is not None:
            reissue_for_work_order(movement.work_order)
        if movement.repair_case_id is not None:
            reissue_for_repair(movement.repair_case)
    return rows


MAX_EXCEPTION = Decimal("1000000")


def must_await_confirmation(work_order, *, field: str | None = None, message=None) -> None:
    """A sheet changes only while the customer has not answered its work order: what was confirmed is final."""
    from aftersales.service.models import WorkOrderState

    if work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(message or _("The customer has answered this work order: its charge sheet is final."),
                                field=field)


@transaction.atomic
def add_exception(*, amount, reason: str, by, work_order=None, repair_case=None) -> ChargeSheet:
    """CUS-5: a manager's exception to the rule — a discount (negative) or a charge the rule does not make — as a line
    of its own with its reason and who approved it, on the sheet of `work_order` while it awaits the customer's
    confirmation, or of `repair_case` while its device is back in service and the case not yet closed. The customer's
    total never goes below zero."""
    sheet = lock_open_sheet(work_order=work_order, repair_case=repair_case)
    try:
        amount = rule.money(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise DomainError(_("Give the amount in yuan, e.g. -120.00 for a discount."), field="amount") from None
    if amount == 0 or abs(amount) > MAX_EXCEPTION:
        raise DomainError(_("Give an amount other than zero, at most 1,000,000 yuan either way."), field="amount")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the rule is set aside."), field="reason")
    if sheet.customer_total + amount < 0:
        raise DomainError(_("The customer's total cannot go below zero: at most %(total)s off.")
                          % {"total": sheet.customer_total}, field="amount")
    return write_exception(sheet, amount, reason[:200], by.display_name or by.get_username())


def lock_open_sheet(*, work_order=None, repair_case=None) -> ChargeSheet:
    """The sheet of the job, locked with its job, when it may still change; a refusal (409) otherwise."""
    from aftersales.repairs.models import RepairCase, RepairState
    from aftersales.service.models import WorkOrder

    if work_order is not None:
        work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        must_await_confirmation(work_order)
        return ChargeSheet.objects.select_for_update().get(work_order=work_order)
    case = RepairCase.objects.select_for_update().get(pk=repair_case.pk)
    if case.state != RepairState.FIXED:
        raise IllegalTransition(_("An exception is added to a repair's charge sheet once the device is back in service "
                                  "and before the case is closed."))
    sheet = ChargeSheet.objects.select_for_update().filter(repair_case=case).first()
    return sheet or issue_for_repair(case)  # a case back in service before repairs had sheets


def write_exception(sheet: ChargeSheet, amount, reason: str, approver: str) -> ChargeSheet:
    ChargeLine.objects.create(sheet=sheet, kind=rule.LineKind.EXCEPTION, description=reason, quantity=Decimal(1),
                              customer_amount=amount, integrator_cost=Decimal("0.00"), covered=False,
                              basis=rule.Basis.EXCEPTION, reference=approver[:100])
    sheet.customer_total = max(rule.money(sheet.customer_total + amount), Decimal("0.00"))
    sheet.save(update_fields=["customer_total"])
    return sheet


def attach(work_orders) -> list:
    """Give each work order `sheet` (its ChargeSheet with `lines`, or None): two queries for all of them."""
    work_orders = list(work_orders)
    sheets = {sheet.work_order_id: sheet for sheet in
              ChargeSheet.objects.filter(work_order__in=[w.pk for w in work_orders]).prefetch_related("lines")}
    for work_order in work_orders:
        work_order.sheet = sheets.get(work_order.pk)
    return work_orders
