"""Presentation of requests: SLA countdowns coloured by risk, priority and state badges, timeline details."""

import base64
from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ..models import (
    PRIORITY_DEFINITIONS, Channel, EventKind, Priority, ServiceMode, State, TargetKind, WorkOrderState, WorkResult,
)

register = template.Library()

PRIORITY_CLASS = {Priority.GENERAL: "secondary", Priority.SERIOUS: "warning", Priority.EMERGENCY: "danger"}
STATE_CLASS = {
    State.NEW: "primary", State.REPLIED: "info", State.DISPATCHED: "info", State.EN_ROUTE: "info",
    State.ON_SITE: "info", State.RESOLVED: "success", State.CLOSED: "secondary", State.CANCELLED: "secondary",
}
RISK_CLASS = {"ok": "success", "warn": "warning", "late": "danger", "paused": "secondary", "none": "light"}
WORK_ORDER_CLASS = {WorkOrderState.AWAITING_CONFIRMATION: "warning", WorkOrderState.CONFIRMED: "success",
                    WorkOrderState.REJECTED: "danger", WorkOrderState.DRAFT: "secondary"}


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def priority_class(priority) -> str:
    return PRIORITY_CLASS.get(priority, "secondary")


@register.filter
def state_class(state) -> str:
    return STATE_CLASS.get(state, "secondary")


@register.filter
def work_order_class(state) -> str:
    return WORK_ORDER_CLASS.get(state, "secondary")


@register.filter
def priority_definition(priority) -> str:
    return str(PRIORITY_DEFINITIONS.get(priority, ""))


def open_targets(request) -> list:
    """The request's running targets: prefetched as `open_targets` on lists, or from `targets` on the page."""
    prefetched = getattr(request, "open_targets", None)
    if prefetched is not None:
        return prefetched
    return [target for target in request.targets.all() if target.is_open]


def risk(request, now) -> str:
    """ok (green), warn (amber: past a warning time), late (red: past a due time), paused, none."""
    if not request.is_open:
        return "none"
    if request.paused:
        return "paused"
    targets = open_targets(request)
    if any(t.due_at and t.due_at <= now for t in targets) or (request.next_due_at and request.next_due_at <= now):
        return "late"
    if any(t.warn_at and t.warn_at <= now for t in targets):
        return "warn"
    return "ok" if request.next_due_at else "none"


def duration_text(seconds: float) -> str:
    """At most two units: '2 d 3 h', '1 h 20 min', '7 min'."""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    units = [(days, pgettext("duration", "d")), (hours, pgettext("duration", "h")), (mins, pgettext("duration", "min"))]
    while len(units) > 1 and units[0][0] == 0:
        units.pop(0)
    units = units[:2]
    if len(units) == 2 and units[1][0] == 0:
        units.pop()
    return " ".join(f"{n} {unit}" for n, unit in units)


def countdown_text(due, now) -> str:
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return _("%(time)s left") % {"time": duration_text(seconds)}
    return _("%(time)s overdue") % {"time": duration_text(seconds)}


@register.simple_tag
def countdown(request, now, level=None) -> str:
    """The next due time as a live countdown; the inline script in _countdown_script.html updates it.
    Built in Python rather than a template: every list row shows one."""
    level = level or risk(request, now)
    due = request.next_due_at
    if request.paused and request.is_open:
        html = format_html('<span class="badge text-bg-secondary" title="{}"><i class="bi bi-pause-circle"></i> {}</span>',
                           _("The clock is paused: waiting for the owner"), _("paused"))
    elif due:
        warns = [t.warn_at for t in open_targets(request) if t.warn_at and t.met_at is None]
        html = format_html(
            '<span class="badge text-bg-{} countdown" data-due="{}"{} title="{} {}"><i class="bi bi-stopwatch"></i> '
            '<span class="countdown-text">{}</span></span>',
            RISK_CLASS[level], epoch_ms(due), format_html(' data-warn="{}"', epoch_ms(min(warns))) if warns else "",
            _("due"), _when(due), countdown_text(due, now) if level != "paused" else "",
        )
    else:
        html = mark_safe('<span class="text-muted small">—</span>')
    if request.due_provisional and request.is_open:
        html += format_html(' <span class="badge text-bg-light border" title="{}">{}</span>',
                            _("The holiday calendar of a year in this span is not known yet; the due time may move."),
                            _("provisional"))
    return html


QUEUE_ROW = (
    '<tr class="risk-{}" data-request="{}"><td class="text-nowrap">{}</td>'
    '<td class="text-nowrap"><a href="{}">{}</a></td><td><span class="badge text-bg-{}">{}</span></td><td>{}{}</td>'
    '<td class="small">{}<br><span class="text-muted">{}</span></td><td><span class="badge text-bg-{}">{}</span></td>'
    '<td class="small">{}</td><td>{}</td><td class="small text-nowrap">{}</td></tr>'
)


@register.simple_tag
def queue_rows(requests, now) -> str:
    """The desk queue's rows. The queue is the hottest page (every desk polls it each minute); rows built
    here cost a tenth of a template loop."""
    rows = []
    for r in requests:
        level = risk(r, now)
        rank = (format_html(' <span class="badge text-bg-light border" title="{}">#{}</span>',
                            _("The customer's own order of their open requests"), r.customer_rank)
                if r.customer_rank else "")
        escalation = (format_html('<span class="badge text-bg-danger">L{}</span>', r.escalation_level)
                      if r.escalation_level else mark_safe('<span class="text-muted">—</span>'))
        rows.append(format_html(
            QUEUE_ROW, level, r.pk, countdown(r, now, level), r.get_absolute_url(), r.number,
            priority_class(r.priority), r.get_priority_display(), r.title, rank, r.customer.name, r.project.name,
            state_class(r.state), r.get_state_display(), r.assignee.display_name if r.assignee else "—", escalation,
            date_format(localtime(r.created_at), "m-d H:i"),
        ))
    if not rows:
        return format_html('<tr><td colspan="9" class="text-muted">{}</td></tr>', _("No open requests."))
    return mark_safe("".join(rows))  # noqa: S308 - each row built by format_html


@register.inclusion_tag("service/_countdown_script.html")
def countdown_script(now):
    """Units and sentences for the browser side of the countdown, in the page's language; the server's
    time, so a wrong clock on the desk PC does not change the countdown."""
    return {
        "server_now": epoch_ms(now),
        "left": _("%(time)s left"), "overdue": _("%(time)s overdue"),
        "d": pgettext("duration", "d"), "h": pgettext("duration", "h"), "min": pgettext("duration", "min"),
    }


def _when(value) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime):
        return date_format(localtime(value), "Y-m-d H:i")
    return ""


@register.simple_tag
def request_risk(request, now) -> str:
    return risk(request, now)


@register.filter
def epoch_ms(value) -> str:
    return str(int(value.timestamp() * 1000)) if value else ""


@register.filter
def event_actor(event) -> str:
    """Who: the user, or for an on-screen or link confirmation the signer's name, else the system."""
    if event.actor_id:
        return event.actor.display_name
    signer = (event.data or {}).get("signer")
    return signer or _("system")


@register.simple_tag
def event_details(event, customer_view=False) -> list[str]:
    """What happened, in words, from the event's data (SRQ-10). Customers don't see internal details."""
    internal = not customer_view
    data, kind, out = event.data or {}, event.kind, []
    if kind == EventKind.CREATED:
        out.append(_("Priority: %(p)s") % {"p": _label(Priority, data.get("priority"))})
        out.append(_("Channel: %(c)s") % {"c": _label(Channel, data.get("channel"))})
    elif kind == EventKind.REPLIED:
        out.append(_("Service mode: %(m)s") % {"m": _label(ServiceMode, data.get("mode"))})
        if data.get("scheduled_for"):
            out.append(_("Scheduled for %(t)s") % {"t": _when(data["scheduled_for"])})
    elif kind == EventKind.PRIORITY_CHANGED:
        out.append(f'{_label(Priority, data.get("old"))} → {_label(Priority, data.get("new"))}')
    elif kind == EventKind.DISPATCHED:
        out.append(_("Engineer: %(name)s") % {"name": data.get("engineer_name", "")})
    elif kind == EventKind.ARRIVED:
        proof = data.get("proof")
        if proof == "position":
            if data.get("distance_m") is not None:
                out.append(_("%(m)s m from the site") % {"m": data["distance_m"]})
            if data.get("accuracy_m") is not None:
                out.append(_("position accurate to %(m)s m") % {"m": data["accuracy_m"]})
        elif proof == "photo":
            out.append(_("Proof: photo of the site"))
        elif proof == "customer":
            out.append(_("Proof: confirmed by the customer"))
    elif kind == EventKind.LEFT:
        if data.get("minutes_on_site") is not None:
            out.append(_("%(n)s min on site") % {"n": data["minutes_on_site"]})
    elif kind in (EventKind.WARNED, EventKind.BREACHED):
        out.append(_("Target: %(t)s") % {"t": _label(TargetKind, data.get("target"))})
        if data.get("due_at"):
            out.append(_("due %(t)s") % {"t": _when(data["due_at"])})
    elif kind == EventKind.ESCALATED:
        out.append(_("Level %(n)s, target: %(t)s") % {"n": data.get("level"), "t": _label(TargetKind, data.get("target"))})
        if internal and data.get("notified"):
            out.append(_("Notified: %(names)s") % {"names": "、".join(data["notified"])})
    elif kind == EventKind.ADVISOR:
        out.append(_("Advisor: %(name)s") % {"name": data.get("advisor_name", "")})
    elif kind == EventKind.RESOLVED:
        out.append(_("Result: %(r)s") % {"r": _label(WorkResult, data.get("result"))})
    elif kind == EventKind.CONFIRMED:
        out.append(_("Via: %(via)s") % {"via": via_label(data.get("via"))})
        if data.get("signer"):
            out.append(_("Signed by %(name)s") % {"name": data["signer"]})
        if data.get("satisfaction"):
            out.append(_("Satisfaction: %(n)s / 5") % {"n": data["satisfaction"]})
    elif kind == EventKind.REJECTED:
        out.append(_("Via: %(via)s") % {"via": via_label(data.get("via"))})
    return out


@register.filter
def is_far(event) -> bool:
    return bool((event.data or {}).get("far"))


@register.filter
def via_label(via) -> str:
    return {"signature": _("signature on screen"), "portal": _("customer portal"), "link": _("confirmation link"),
            "onsite": _("on site")}.get(via or "", via or "")


@register.filter
def target_label(kind) -> str:
    return _label(TargetKind, kind)


@register.filter
def signature_data_url(field_file) -> str:
    """The stored signature PNG inline, so it is never reachable by a media URL (lessons.md #7)."""
    if not field_file:
        return ""
    try:
        with field_file.open("rb") as handle:
            png = handle.read(1024 * 1024)
    except (FileNotFoundError, OSError, ValueError):
        return ""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
