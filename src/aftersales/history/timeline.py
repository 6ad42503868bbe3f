"""LOG-1: one page of a customer's or a project's history, newest first, paged by an opaque keyset cursor.

For each selected kind one query, `WHERE <customer or project> = ? AND <before the cursor> ORDER BY at DESC, id DESC
LIMIT size + 1`, served by the kind's (customer or project, time) index; the kinds' rows are merged in Python
(heapq.merge) on (at, kind, id) and cut to `size`; the request events of the page's requests are read in one more
query by request id and folded under each request (a customer's busiest year has hundreds of thousands of events:
they are never paged on their own). So a page costs len(kinds) + 1 queries, whatever the history's length.
"""

import heapq
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from django.core import signing
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import DISPLAY_NAME_FIELDS, display_name
from aftersales.core.errors import DomainError

from .sources import KINDS

MAX_SIZE = 200  # a page of the API
EXPORT_CHUNK = 1000  # the exports read the history in keyset chunks of this many lines
EVENTS_SHOWN = 20  # events folded under one request (its first ones); the request page has them all
_CURSOR = signing.Signer(salt="aftersales.history.cursor")


class BadCursor(DomainError):
    code = "bad_cursor"

    def __init__(self):
        super().__init__(_("This page link is not valid. Start again from the newest page."), field="cursor")


@dataclass
class Entry:  # not frozen: fold_events fills in the events of the page's requests
    kind: object  # sources.Kind
    id: int
    at: datetime
    title: str
    state: str
    actor: str
    url: str
    summary: str = ""
    events: list = field(default_factory=list)
    more_events: int = 0  # events of the request beyond EVENTS_SHOWN

    @property
    def key(self) -> tuple:
        return (self.at, self.kind.slug, self.id)


@dataclass(frozen=True)
class Page:
    entries: list
    next_cursor: str | None


def encode_cursor(key: tuple) -> str:
    at, slug, pk = key
    return _CURSOR.sign_object([at.isoformat(), slug, pk], compress=True)


def decode_cursor(text: str) -> tuple:
    try:
        at, slug, pk = _CURSOR.unsign_object(text)
        at = parse_datetime(at)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadCursor() from None
    if at is None or at.tzinfo is None or slug not in KINDS or type(pk) is not int:
        raise BadCursor()
    return at, slug, pk


def _before(kind, cursor) -> Q:
    """The rows of `kind` after the cursor in (at, kind, id) descending order."""
    at, slug, pk = cursor
    if kind.slug < slug:
        return Q(**{f"{kind.at}__lte": at})
    if kind.slug == slug:
        return Q(**{f"{kind.at}__lt": at}) | Q(**{kind.at: at, "pk__lt": pk})
    return Q(**{f"{kind.at}__lt": at})


def kind_rows(kind, user, *, customer=None, project=None, start=None, end=None, cursor=None):
    """The query of one kind: scoped, restricted, newest first (no limit)."""
    rows = kind.rows(user)
    if kind.at_from is not None:
        rows = rows.annotate(**{kind.at: kind.at_from})
    if customer is not None:
        rows = rows.filter(**{kind.customer: customer})
    if project is not None:
        rows = rows.filter(**{kind.project: project})
    if start is not None:
        rows = rows.filter(**{f"{kind.at}__gte": start})
    if end is not None:
        rows = rows.filter(**{f"{kind.at}__lt": end})
    if cursor is not None:
        rows = rows.filter(_before(kind, cursor))
    return rows.order_by(F(kind.at).desc(), F("pk").desc()).values("id", kind.at, *set(kind.values().values()))


def _entries(kind, rows):
    wanted = kind.values()
    for raw in rows:
        row = {"id": raw["id"], "ts": raw[kind.at]} | {alias: raw[lookup] for alias, lookup in wanted.items()}
        summary = (row.get(kind.summary) or "")[:200] if kind.summary else ""
        yield Entry(kind, row["id"], row["ts"], kind.title(row), kind.state_label(row), kind.actor_name(row),
                    kind.url(row), summary)


def page(user, *, customer=None, project=None, kinds=None, start=None, end=None, cursor=None, size=50,
         events=True) -> Page:
    """One page of the history of `customer` or `project` (an id) as `user` may see it; `kinds` a list of slugs
    (None: all), `start`/`end` aware datetimes (half-open), `cursor` a string from a previous page's next_cursor.

    A project's history should be given its customer too (`customer=project.customer_id`): the filter changes no
    row, but lets each kind's query walk its (customer, time) index in time order instead of sorting all of the
    project's rows (the busiest project at 1M requests: 254 ms → a few ms for the requests, bench/history_pages.py)."""
    if customer is None and project is None:
        raise DomainError(_("Choose a customer or a project."), field="customer")
    size = max(1, min(int(size), EXPORT_CHUNK))
    key = decode_cursor(cursor) if cursor else None
    selected = [KINDS[slug] for slug in (kinds or KINDS) if slug in KINDS]
    streams = []
    for kind in selected:
        rows = list(kind_rows(kind, user, customer=customer, project=project, start=start, end=end,
                              cursor=key)[:size + 1])
        streams.append(_entries(kind, rows))
    merged = list(islice(heapq.merge(*streams, key=lambda entry: entry.key, reverse=True), size + 1))
    entries, more = merged[:size], len(merged) > size
    if events:
        fold_events(entries, user)
    return Page(entries, encode_cursor(entries[-1].key) if more else None)


def fold_events(entries, user) -> None:
    """The timeline events of the page's requests, one query, each request's in time order; a customer's user sees
    what the request page shows them (no incident report draft steps)."""
    from aftersales.service.models import TimelineEvent

    requests = {entry.id: entry for entry in entries if entry.kind.slug == "request"}
    if not requests:
        return
    rows = TimelineEvent.objects.filter(request_id__in=list(requests))
    if user.customer_id:
        rows = rows.exclude(kind="incident_report", data__step__in=["drafted", "revised"])
    names = {f"actor__{name}": f"actor__{name}" for name in DISPLAY_NAME_FIELDS}
    rows = rows.annotate(
        nth=Window(RowNumber(), partition_by=[F("request_id")], order_by=[F("at").asc(), F("pk").asc()]),
        of=Window(Count("pk"), partition_by=[F("request_id")])).filter(nth__lte=EVENTS_SHOWN)
    for row in rows.order_by("request_id", "at", "pk").values("request_id", "kind", "at", "text", "of", *names):
        requests[row["request_id"]].more_events = row["of"] - EVENTS_SHOWN if row["of"] > EVENTS_SHOWN else 0
        actor = [row[name] or "" for name in names]
        requests[row["request_id"]].events.append({
            "kind": row["kind"], "label": str(EVENT_LABELS.get(row["kind"], row["kind"])), "at": row["at"],
            "text": row["text"], "actor": display_name(*actor) if any(actor) else ""})


def all_entries(user, *, chunk=EXPORT_CHUNK, **filters):
    """Every entry of the filtered history, newest first, read page by page (keyset chunks): for exports."""
    cursor = None
    while True:
        result = page(user, cursor=cursor, size=chunk, events=False, **filters)
        yield from result.entries
        if not result.next_cursor:
            return
        cursor = result.next_cursor


def _event_labels():
    from aftersales.service.models import EventKind

    return dict(EventKind.choices)


EVENT_LABELS = _event_labels()
