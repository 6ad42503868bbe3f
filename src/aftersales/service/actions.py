"""Which actions a user may take on a request now: one table, derived from the state machine (models.ALLOWED)
and each action's guard, read by the request page, the API and the verbs themselves.

The guards read the request's visits, work orders and incident report: pages prefetch them."""

from dataclasses import dataclass
from typing import Callable

from django.utils.translation import gettext as _

from aftersales.core.errors import IllegalTransition

from .models import ALLOWED, IncidentReport, State, WorkOrderState

STAY_ON_SITE = (State.ON_SITE, State.RESOLVED)  # the engineer leaves only after the customer's confirmation
REPORT_EDITABLE = (WorkOrderState.DRAFT, WorkOrderState.REJECTED)


def can_become(request, state: str) -> bool:
    return state in ALLOWED[request.state]


def awaiting_work_order(request):
    orders = [wo for wo in request.work_orders.all() if wo.state == WorkOrderState.AWAITING_CONFIRMATION]
    return orders[-1] if orders else None


def unrated_work_order(request):
    """The last confirmed work order the customer confirmed without rating it (issue 21 §4: rate it later)."""
    orders = [wo for wo in request.work_orders.all() if wo.state == WorkOrderState.CONFIRMED and wo.satisfaction is None]
    return max(orders, key=lambda wo: wo.pk) if orders else None


def incident_report_of(request) -> IncidentReport | None:
    try:
        return request.incident_report
    except IncidentReport.DoesNotExist:
        return None


def _on_site_visit(request, user) -> bool:
    return any(v.engineer_id == getattr(user, "pk", None) and v.arrived_at and not v.left_at for v in request.visits.all())


def _report_in(request, states) -> bool:
    report = incident_report_of(request)
    return report is not None and report.state in states


@dataclass(frozen=True)
class Action:
    permission: str
    guard: Callable  # (request, user) -> bool


HANDLE, WORK, VIEW, CONFIRM, REPORT = ("service.handle_request", "service.work_on_request",
                                       "service.view_servicerequest", "service.confirm_work",
                                       "service.add_incidentreport")

ACTIONS = {
    "reply": Action(HANDLE, lambda r, u: r.state == State.NEW),
    "dispatch": Action(HANDLE, lambda r, u: r.state == State.NEW or can_become(r, State.DISPATCHED)),
    "pause": Action(HANDLE, lambda r, u: r.is_open and not r.paused),
    "resume": Action(HANDLE, lambda r, u: r.paused),
    "change_priority": Action(HANDLE, lambda r, u: r.is_open),
    "contingency": Action(HANDLE, lambda r, u: r.is_open),
    "advisor": Action(HANDLE, lambda r, u: r.is_open),
    "cancel": Action(HANDLE, lambda r, u: can_become(r, State.CANCELLED)),
    "comment": Action(VIEW, lambda r, u: True),
    "attachments": Action(VIEW, lambda r, u: True),
    "depart": Action(WORK, lambda r, u: can_become(r, State.EN_ROUTE) and r.assignee_id == getattr(u, "pk", None)),
    "arrive": Action(WORK, lambda r, u: r.state in (State.DISPATCHED, State.EN_ROUTE)
                     and r.assignee_id == getattr(u, "pk", None)),
    "leave": Action(WORK, lambda r, u: r.state not in STAY_ON_SITE and _on_site_visit(r, u)),
    "work_order": Action(WORK, lambda r, u: can_become(r, State.RESOLVED)),
    "sign": Action(WORK, lambda r, u: awaiting_work_order(r) is not None),
    "confirm": Action(CONFIRM, lambda r, u: awaiting_work_order(r) is not None),
    "rate": Action(CONFIRM, lambda r, u: unrated_work_order(r) is not None),
    "write_incident": Action(REPORT, lambda r, u: incident_report_of(r) is None or _report_in(r, REPORT_EDITABLE)),
    "submit_incident": Action(REPORT, lambda r, u: _report_in(r, REPORT_EDITABLE)),
    "answer_incident": Action(CONFIRM, lambda r, u: _report_in(r, (WorkOrderState.AWAITING_CONFIRMATION,))),
}


def permission_of(name: str) -> str:
    """The permission an action needs (the API's routes require it; the verb then checks the state)."""
    return ACTIONS[name].permission


def allowed_actions(user, request) -> frozenset[str]:
    """The names of the actions `user` may take on `request` now."""
    return frozenset(name for name, action in ACTIONS.items()
                     if user.has_perm(action.permission) and action.guard(request, user))


def is_allowed(name: str, request, user) -> bool:
    """The state part only (verbs run for the system and for signed links too; views and the API check the
    permission)."""
    return ACTIONS[name].guard(request, user)


def check(name: str, request, user, message=None) -> None:
    """Raise IllegalTransition (409) when the request's state does not allow the action now."""
    if not is_allowed(name, request, user):
        raise IllegalTransition(message or _("This is not possible while the request is “%(state)s”.") % {
            "state": request.get_state_display()})
