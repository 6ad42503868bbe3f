"""CUS-5: issuing the charge sheet of a work order (billing/rule.py decides, this module gathers the facts and stores
the result). Called by the work-order verb inside its transaction, so a work order never exists without its sheet.

The facts: the day of the fault is the local day the request was received; the coverage is that of the request's
first affected device covered that day (else its first device, uncovered; a request naming no device is charged as
not covered, and the sheet says no device was named); the parts are the work order's part lines at the purchase cost
of their movements; labour is the work order's minutes; on-site service one visit when the engineer arrived on site.
The integrator's own hourly and per-visit costs come from settings (AFTERSALES_LABOUR_COST_PER_HOUR,
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
    sheet = rule.charge_sheet(
        fault_day=day,
        coverage=None if coverage is None else rule.Coverage(parts=coverage.parts, labour=coverage.labour,
                                                             onsite=coverage.onsite, label=coverage_text(coverage)),
        parts=[rule.PartUsed(movement.part.name, movement.quantity, movement.unit_cost, reference=str(movement.pk))
               for movement in movements],
        labour_minutes=work_order.minutes_spent,
        onsite_visits=1 if request.visits.filter(engineer=work_order.engineer, arrived_at__isnull=False).exists() else 0,
        labour_cost_per_hour=setting_cost("AFTERSALES_LABOUR_COST_PER_HOUR"),
        onsite_cost_per_visit=setting_cost("AFTERSALES_ONSITE_COST_PER_VISIT"),
    )
    stored = ChargeSheet.objects.create(
        work_order=work_order, fault_day=day, device=device, coverage=coverage_text(coverage),
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
    from aftersales.service.part_lines import lines_of

    must_await_confirmation(work_order, field="work_order", message=_(
        "Parts can be added to a work order only while it awaits the customer's confirmation: its charge sheet is "
        "final once confirmed."))
    exceptions = list(ChargeLine.objects.filter(sheet__work_order=work_order, kind=rule.LineKind.EXCEPTION)
                      .order_by("pk").values_list("customer_amount", "description", "reference"))
    ChargeSheet.objects.filter(work_order=work_order).delete()  # its lines with it
    movements = [movement for movement in lines_of([work_order])[work_order.pk] if not movement.corrected]
    sheet = issue_for_work_order(work_order, movements)
    for amount, reason, approver in exceptions:  # a manager's exceptions stay, each still its own line
        write_exception(sheet, amount, reason, approver)
    return sheet


MAX_EXCEPTION = Decimal("1000000")


def must_await_confirmation(work_order, *, field: str | None = None, message=None) -> None:
    """A sheet changes only while the customer has not answered its work order: what was confirmed is final."""
    from aftersales.service.models import WorkOrderState

    if work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(message or _("The customer has answered this work order: its charge sheet is final."),
                                field=field)


@transaction.atomic
def add_exception(*, work_order, amount, reason: str, by) -> ChargeSheet:
    """CUS-5: a manager's exception to the rule — a discount (negative) or a charge the rule does not make — as a line
    of its own with its reason and who approved it, while the work order awaits the customer's confirmation. The
    customer's total never goes below zero."""
    from aftersales.service.models import WorkOrder

    work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    must_await_confirmation(work_order)
    sheet = ChargeSheet.objects.select_for_update().get(work_order=work_order)
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
