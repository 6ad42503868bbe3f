"""Presentation of change notices: the answer's countdown (service/_countdown.html, kept current in the browser by
service/_countdown_script.html), coloured like an SLA target: green, amber once due soon, red once overdue."""

from django import template

from aftersales.service.templatetags.service_tags import Countdowns

from ..models import NoticeState, Verdict

register = template.Library()

STATE_CLASS = {NoticeState.SUBMITTED: "primary", NoticeState.UNDER_TEST: "info", NoticeState.ANSWERED: "success",
               NoticeState.CLOSED: "secondary", NoticeState.WITHDRAWN: "light"}
VERDICT_CLASS = {Verdict.COMPATIBLE: "success", Verdict.CONDITIONAL: "warning", Verdict.INCOMPATIBLE: "danger"}


def risk(notice, now) -> str:
    """ok, warn (past the due-soon time), late (past the deadline); none once answered or withdrawn."""
    if not notice.is_open:
        return "none"
    if notice.answer_due_at <= now:
        return "late"
    return "warn" if notice.warn_at <= now else "ok"


@register.inclusion_tag("service/_countdown.html")
def answer_countdown(notice, now) -> dict:
    return {"c": Countdowns(now).badge(is_open=True, paused=False, due=notice.answer_due_at, first_warn=notice.warn_at,
                                       provisional=False, level=risk(notice, now))}


@register.simple_tag
def notice_risk(notice, now) -> str:
    return risk(notice, now)


@register.filter
def notice_state_class(state) -> str:
    return STATE_CLASS.get(state, "secondary")


@register.filter
def verdict_class(verdict) -> str:
    return VERDICT_CLASS.get(verdict, "secondary")
