"""Presentation of requests: SLA countdowns coloured by risk, priority and state badges, timeline details. Tags and
filters return text or plain values; the markup is in the templates (service/_countdown.html, _queue_table.html)."""

import base64
from datetime import datetime
from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from aftersales.accounts.models import DISPLAY_NAME_FIELDS, display_name

from ..models import (
    OPEN_STATES, PRIORITY_DEFINITIONS, Channel, ConfirmedVia, EventKind, Priority, ServiceMode, State, TargetKind, WorkOrderState,
    WorkResult,
)

register = template.Library()

PRIORITY_CLASS = {Priority.GENERAL: "secondary", Priority.SERIOUS: "warning", Priority.EMERGENCY: "danger"}
STATE_CLASS = {
    State.NEW: "primary", State.REPLIED: "info", State.DISPATCHED: "info", State.EN_ROUTE: "info",
    State.ON_SITE: "info", State.RESOLVED: "success", State.RESTORED: "warning", State.CLOSED: "secondary",
    State.CANCELLED: "secondary",
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


def _earliest(times) -> datetime | None:
    return min((t for t in times if t), default=None)


def risk(request, now) -> str:
    """ok (green), warn (amber: past a warning time), late (red: past a due time), paused, none."""
    if not request.is_open:
        return "none"
    targets = open_targets(request)
    return open_risk(request.paused, request.next_due_at, _earliest(t.due_at for t in targets),
                     _earliest(t.warn_at for t in targets), now)


def open_risk(paused: bool, next_due_at, first_due, first_warn, now) -> str:
    """risk() of an open request, from the earliest due and warning time of its running targets."""
    if paused:
        return "paused"
    if (first_due and first_due <= now) or (next_due_at and next_due_at <= now):
        return "late"
    if first_warn and first_warn <= now:
        return "warn"
    return "ok" if next_due_at else "none"


@lru_cache
def texts(language: str) -> dict:
    """The words of countdowns and queue rows in one language, translated once per worker (the catalogues do
    not change while it runs): a page of 100 rows would ask gettext for them hundreds of times."""
    return {
        "d": pgettext("duration", "d"), "h": pgettext("duration", "h"), "min": pgettext("duration", "min"),
        "left": _("%(time)s left"), "overdue": _("%(time)s overdue"), "due": _("due"),
        "paused": _("paused"), "paused_title": _("The clock is paused: waiting for the owner"),
        "provisional": _("provisional"),
        "provisional_title": _("The holiday calendar of a year in this span is not known yet; the due time may move."),
        "priority": {value: str(label) for value, label in Priority.choices},
        "state": {value: str(label) for value, label in State.choices},
    }


def countdown_text(due, now, words=None) -> str:
    """The one place a countdown's text is computed: '2 h left', '1 d 3 h overdue' (剩余 2 小时, 已超时 1 天 3 小时),
    in the current language unless `words` (texts() of a language) are given. _countdown_script.html keeps the
    text current in the browser with the same rule and the same words."""
    words = words or texts(get_language())
    seconds = (due - now).total_seconds()
    return words["left" if seconds >= 0 else "overdue"] % {"time": duration_text(seconds, words)}


def duration_text(seconds: float, words) -> str:
    """At most two units: '2 d 3 h', '1 h 20 min', '7 min'."""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    units = [(days, words["d"]), (hours, words["h"]), (mins, words["min"])]
    while len(units) > 1 and units[0][0] == 0:
        units.pop(0)
    units = units[:2]
    if len(units) == 2 and units[1][0] == 0:
        units.pop()
    return " ".join(f"{n} {unit}" for n, unit in units)


class Countdowns:
    """Countdown badges at one instant, in the current language and time zone (looked up once, not per row)."""

    def __init__(self, now):
        self.now = now
        self.words = texts(get_language())
        self.zone = timezone.get_current_timezone()

    def badge(self, *, is_open: bool, paused: bool, due, first_warn, provisional: bool, level: str) -> dict:
        """What service/_countdown.html shows; `first_warn` is the earliest warning time of the running targets."""
        return {
            "paused": paused and is_open, "due": epoch_ms(due), "warn": epoch_ms(first_warn),
            "colour": RISK_CLASS[level], "when": due.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if due else "",
            "text": countdown_text(due, self.now, self.words) if due and level != "paused" else "",
            "provisional": provisional and is_open, "words": self.words,
        }


@register.inclusion_tag("service/_countdown.html")
def countdown(request, now, level=None) -> dict:
    """The next due time as a live countdown; the inline script in _countdown_script.html updates it."""
    warns = [t.warn_at for t in open_targets(request) if t.met_at is None] if request.next_due_at else []
    return {"c": Countdowns(now).badge(
        is_open=request.is_open, paused=request.paused, due=request.next_due_at, first_warn=_earliest(warns),
        provisional=request.due_provisional, level=level or risk(request, now))}


@register.simple_tag
def queue_lines(rows, now) -> list[dict]:
    """What each row of the desk queue shows (_queue_table.html), from selectors.queue_rows(): plain values, the
    labels and colours looked up once per page."""
    countdowns = Countdowns(now)
    words = countdowns.words
    url = reverse("service:request_detail", args=[0]).replace("/0/", "/{}/")  # one reverse() for a page of links
    lines = []
    for r in rows:
        is_open = r["state"] in OPEN_STATES
        level = open_risk(r["paused"], r["next_due_at"], r["first_due"], r["first_warn"], now) if is_open else "none"
        lines.append({
            "level": level, "pk": r["pk"], "url": url.format(r["pk"]), "number": r["number"],
            "countdown": countdowns.badge(is_open=is_open, paused=r["paused"], due=r["next_due_at"],
                                          first_warn=r["first_warn"], provisional=r["due_provisional"], level=level),
            "priority_class": priority_class(r["priority"]),
            "priority": words["priority"].get(r["priority"], r["priority"]), "title": r["title"],
            "rank": r["customer_rank"], "customer": r["customer__name"], "project": r["project__name"],
            "state_class": state_class(r["state"]), "state": words["state"].get(r["state"], r["state"]),
            "engineer": display_name(*(r[f"assignee__{field}"] or "" for field in DISPLAY_NAME_FIELDS)) or "—",
            "escalation": r["escalation_level"],
            "opened": r["created_at"].astimezone(countdowns.zone).strftime("%m-%d %H:%M"),
        })
    return lines


@register.simple_tag
def queue_rows_html(rows, now):
    """The desk queue's rows rendered by Jinja2 (the one hot fragment, settings.TEMPLATES), from queue_lines()."""
    html = get_template("service/queue_rows.html", using="jinja2").render({
        "lines": queue_lines(rows, now), "empty": _("No open requests."),
        "rank_title": _("The customer's own order of their open requests")})
    return mark_safe(html)  # noqa: S308 - Jinja2's output, every value autoescaped


@register.inclusion_tag("service/_countdown_script.html")
def countdown_script(now):
    """Units and sentences for the browser side of the countdown, in the page's language; the server's
    time, so a wrong clock on the desk PC does not change the countdown."""
    words = texts(get_language())
    return {"server_now": epoch_ms(now), **{name: words[name] for name in ("left", "overdue", "d", "h", "min")}}


def _when(value) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime):
        return localtime(value).strftime("%Y-%m-%d %H:%M")  # date_format(…, "Y-m-d H:i"), at a quarter of its cost
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
        if data.get("parts"):
            out.append(_("Parts used: %(parts)s") % {"parts": "、".join(
                f'{line.get("part", "")} ×{line.get("quantity", "")}' for line in data["parts"])})
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
    return _label(ConfirmedVia, via) if via else ""


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


@register.simple_tag
def annotate_changes(events) -> str:
    """Gives each timeline line `shown`, the fields its verb changed, for staff (the timeline is the audit of
    requests); renders nothing."""
    from ..timeline import annotate_shown_changes

    annotate_shown_changes(events)
    return ""
