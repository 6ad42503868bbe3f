"""Repair cases where other pages show them: the device's history (assets' device page) and the side panel of the
service request page, each a small include that asks this library; and the badges of repair states."""

from django import template

from aftersales.core import clock

from .. import selectors
from ..models import RepairState, ReplacementSource, StepKind, Verdict

register = template.Library()

STATE_CLASS = {
    RepairState.DIAGNOSING: "primary", RepairState.REPAIRING: "info", RepairState.AWAITING_UNIT: "warning",
    RepairState.AT_VENDOR: "warning", RepairState.RETURNED: "info", RepairState.FIXED: "success",
    RepairState.CLOSED: "secondary", RepairState.CANCELLED: "secondary",
}


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def repair_state_class(state) -> str:
    return STATE_CLASS.get(state, "secondary")


@register.filter
def repair_state_label(state) -> str:
    return _label(RepairState, state)


@register.filter
def repair_step_label(kind) -> str:
    return _label(StepKind, kind)


@register.filter
def verdict_label(verdict) -> str:
    return _label(Verdict, verdict)


@register.filter
def source_label(source) -> str:
    return _label(ReplacementSource, source)


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("repairs/_device_history_body.html", takes_context=True)
def device_repairs(context, device):
    """§2/§3: every repair of the device with its steps, and its replacement links both ways."""
    user = _user(context)
    if user is None or not user.has_perm("repairs.view_repaircase"):
        return {"shown": False}
    return {"shown": True, "device": device, "perms": context.get("perms"),
            "can_open": user.has_perm("repairs.work_repair"), **selectors.device_history(user, device)}


@register.inclusion_tag("repairs/_request_panel_body.html", takes_context=True)
def request_repairs(context, service_request):
    """SRQ-5: the repair cases opened from the request and the units lent on them (the contingency's loan)."""
    user = _user(context)
    if user is None or not user.has_perm("repairs.view_repaircase"):
        return {"shown": False}
    cases = selectors.request_repairs(user, service_request)
    today = clock.today()
    for case in cases:
        for loan in case.loans.all():
            loan.overdue = loan.is_overdue(today)
    return {"shown": True, "cases": cases, "service_request": service_request,
            "can_open": user.has_perm("repairs.work_repair") and service_request.is_open}
