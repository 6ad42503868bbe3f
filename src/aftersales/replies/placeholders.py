"""Issue 25 §7: the placeholders of canned replies and their expansion for one service request.

Desk staff write the Chinese names; each also has an English alias. `render(body, request)` is pure (it reads the
request and its already loaded relations; the arrival deadline comes from `values`, or from the request's targets)
and never raises: an unknown placeholder, or a known one without a value for this request (no engineer yet), stays
visible as written, so the person sending it sees what is left to fill in."""

import re
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from aftersales.core import clock

# (Chinese name, English alias, description) — the order of the help shown on the management page.
PLACEHOLDERS = [
    ("单号", "number", _("The request's number")),
    ("标题", "title", _("The request's title")),
    ("客户", "customer", _("The customer's name")),
    ("项目", "project", _("The project's name")),
    ("地址", "site", _("The project's site address")),
    ("报修人", "reporter", _("Who reported the problem")),
    ("报修电话", "reporter_phone", _("The reporter's phone")),
    ("工程师", "engineer", _("The engineer assigned")),
    ("工程师电话", "engineer_phone", _("The engineer's phone")),
    ("回复时限", "reply_due", _("When the reply is due")),
    ("到场时限", "arrival_due", _("When the engineer must be on site")),
    ("解决时限", "resolve_due", _("When the resolution is due")),
    ("今天", "today", _("Today's date")),
]
ALIASES = {alias: name for name, alias, _description in PLACEHOLDERS}
NAMES = {name for name, _alias, _description in PLACEHOLDERS}
PATTERN = re.compile(r"\{\s*([^{}\s]{1,30})\s*\}")


def moment(value) -> str:
    if not isinstance(value, datetime):
        return ""
    return f"{value.astimezone(clock.SHANGHAI):%m-%d %H:%M}"


def arrival_due(request) -> datetime | None:
    """The arrival target's due time: from prefetched targets when loaded, else one query."""
    try:
        targets = request.targets.all()
        return next((t.due_at for t in targets if t.kind == "arrival" and t.due_at), None)
    except Exception:  # noqa: BLE001 — a request not saved yet, or no targets: no value, the placeholder stays
        return None


def values_for(request, *, arrival: bool = True) -> dict[str, str]:
    """Every placeholder's value for `request` ("" when it has none); `arrival=False` skips the arrival deadline
    (the one value that may cost a query)."""
    if request is None:
        return {"今天": f"{clock.today():%Y-%m-%d}"}

    def attr(obj, *names):
        for name in names:
            obj = getattr(obj, name, None) if obj is not None else None
        return "" if obj is None else str(obj)

    project = getattr(request, "project", None)
    assignee = getattr(request, "assignee", None)
    return {
        "单号": attr(request, "number"),
        "标题": attr(request, "title"),
        "客户": attr(project, "customer", "name"),
        "项目": attr(project, "name"),
        "地址": attr(project, "site_address"),
        "报修人": attr(request, "reporter_name"),
        "报修电话": attr(request, "reporter_phone"),
        "工程师": attr(assignee, "display_name"),
        "工程师电话": attr(assignee, "phone"),
        "回复时限": moment(getattr(request, "reply_due_at", None)),
        "到场时限": moment(arrival_due(request)) if arrival else "",
        "解决时限": moment(getattr(request, "resolve_due_at", None)),
        "今天": f"{clock.today():%Y-%m-%d}",
    }


def render(body, request, *, values: dict | None = None) -> str:
    """`body` with every known placeholder of `request` filled in; unknown or empty ones left as written."""
    if not body:
        return ""
    try:
        known = values if values is not None else values_for(request)
    except Exception:  # noqa: BLE001 — never raise while a reply is being written
        known = {}

    def fill(match):
        name = match.group(1)
        value = known.get(ALIASES.get(name, name))
        return str(value) if value else match.group(0)

    return PATTERN.sub(fill, str(body))


def needs_targets(bodies) -> bool:
    """Whether any of the bodies asks for the arrival deadline (the only value that needs another query)."""
    return any(name in ("到场时限", "arrival_due") for body in bodies for name in PATTERN.findall(body or ""))
