"""The words of the monthly report's codes (the facts keep codes; the page and the PDF show these)."""

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.inspections.models import RoundState
from aftersales.repairs.models import RepairState
from aftersales.service.models import (
    ConfirmedVia,
    Priority,
    State,
    TargetKind,
    WorkOrderState,
    WorkResult,
)
from aftersales.training.models import SessionKind, SessionState
from aftersales.visits.models import SurveyState

register = template.Library()

LABELS = {
    "priority": dict(Priority.choices),
    "state": dict(State.choices),
    "target": {TargetKind.REPLY: _("Reply"), TargetKind.DEPARTURE: _("Departure"),
               TargetKind.ARRIVAL: _("Arrival"), TargetKind.RESOLUTION: _("Resolution")},
    "outcome": {"met": pgettext_lazy("target", "Met"), "missed": pgettext_lazy("target", "Missed"),
                "open": pgettext_lazy("target", "Open")},
    "result": dict(WorkResult.choices),
    "work_order_state": dict(WorkOrderState.choices),
    "confirmed_via": dict(ConfirmedVia.choices),
    "round_state": dict(RoundState.choices),
    "repair_state": dict(RepairState.choices),
    "survey_state": dict(SurveyState.choices),
    "session_state": dict(SessionState.choices),
    "session_kind": dict(SessionKind.choices),
    "line_kind": {"part": _("Parts"), "labour": _("Labour"), "onsite": _("On-site fee"),
                  "exception": _("Exception")},
    "proof": {"position": _("position recorded"), "photo": _("photo of the site"),
              "customer": _("confirmed by the customer")},
}


@register.filter
def label(value, kind):
    """`{{ row.priority|label:"priority" }}`: the word of a code; an unknown code shows as it is."""
    if value in (None, ""):
        return "—"
    return LABELS.get(kind, {}).get(value, value)
