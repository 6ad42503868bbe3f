"""Inspections where other pages show them: a device's inspection history (the device page includes
inspections/_device_history.html), and the badges of round states."""

from django import template

from .. import selectors
from ..models import EventKind, RoundState

register = template.Library()

STATE_CLASS = {
    RoundState.AWAITING_APPROVAL: "warning", RoundState.SCHEDULED: "primary", RoundState.IN_PROGRESS: "info",
    RoundState.DONE: "success", RoundState.MISSED: "danger",
}


@register.filter
def round_state_class(state) -> str:
    return STATE_CLASS.get(state, "secondary")


@register.filter
def round_event_label(kind) -> str:
    try:
        return str(EventKind(kind).label)
    except ValueError:
        return str(kind or "")


@register.inclusion_tag("inspections/_device_history_body.html", takes_context=True)
def device_inspections(context, device):
    """INS-5's memory of a device: its checks in past rounds, newest first, with their findings (scoped to the
    reader: a customer sees their own rounds, an engineer the rounds assigned to them)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("inspections.view_inspectionround"):
        return {"allowed": False}
    return {"allowed": True, "checks": selectors.history_of(device, user), "device": device}


# INS-4 (issue 23 §5): findings
FINDING_CLASS = {"open": "danger", "request_opened": "primary", "joined_request": "primary", "repair_opened": "warning",
                 "dismissed": "secondary"}


@register.filter
def finding_state_class(state) -> str:
    return FINDING_CLASS.get(state, "secondary")


@register.filter
def finding_result(finding) -> str:
    """What was found: "failed", or the reading with its unit and valid range."""
    from ..findings import reading_text

    return reading_text(finding.item, finding.answer)


@register.filter
def is_in(value, container) -> bool:
    return value in container
