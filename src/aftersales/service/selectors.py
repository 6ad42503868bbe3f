"""Reads of service requests; all go through the scoping function."""

from django.db.models import F, Min, OuterRef, Prefetch, QuerySet, Subquery

from aftersales.accounts.models import DISPLAY_NAME_FIELDS
from aftersales.assets.models import Device
from aftersales.core import scoping
from aftersales.core.scoping import visible

from .compiled_queries import CompiledByKey
from .models import OPEN_STATES, ServiceRequest, Target, TimelineEvent


def open_requests(user) -> QuerySet[ServiceRequest]:
    """Open requests, most urgent first (next due time), scoped to the user."""
    return visible(_open_requests(), user)


QUEUE_ORDER = (F("next_due_at").asc(nulls_last=True), "pk")  # most urgent first


def _open_requests() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.filter(state__in=OPEN_STATES).order_by(*QUEUE_ORDER)


class CompiledQueue:
    """The desk queue of a user's scope with some exact filters (`lookups`), as Django's Paginator reads a queryset
    (`count()` and a slice of `fields`), from SQL compiled once per process for each scope, set of filters and page
    (core.rows.CompiledValues): every desk polls the queue, and building and compiling its two queries cost more
    than running them."""

    _compiled = CompiledByKey()

    def __init__(self, user, lookups: dict, fields=()):
        self.user, self.names, self.fields = user, tuple(sorted(lookups)), tuple(fields)
        self.values = [lookups[name] for name in self.names]
        self.scope = scoping.scope_of(user)  # the compiled SQL is built from this value and kept under it

    def _requests(self, *values):
        return self.scope.apply(_open_requests()).filter(**dict(zip(self.names, values)))

    def count(self) -> int:
        def build(*values):
            return self._requests(*values).order_by().values("pk")

        return self._compiled.get((self.scope, self.names, "count"), build).count(*self.values)

    def __getitem__(self, page: slice) -> list[dict]:
        def build(*values):
            return self._requests(*values).values(*self.fields)[page.start:page.stop]

        return self._compiled.get((self.scope, self.names, self.fields, page.start, page.stop), build).rows(*self.values)

    def desk_rows(self, start: int, stop: int) -> list[dict]:
        """queue_rows() of the queue's rows [start:stop] in its own order (the desk page without a chosen sort)."""
        def build(*values):
            return _queue_rows_of(self._requests(*values)[start:stop], QUEUE_ORDER)

        return self._compiled.get((self.scope, self.names, "desk rows", start, stop), build).rows(*self.values)


def desk_queue(user) -> QuerySet[ServiceRequest]:
    """open_requests() as the desk counts and pages them: no joins, so the COUNT and the page read the srq_queue index.
    The page's columns come from queue_rows()."""
    return open_requests(user)


QUEUE_COLUMNS = ("pk", "number", "title", "priority", "state", "customer_rank", "escalation_level", "paused",
                 "due_provisional", "next_due_at", "created_at", "project__name", "customer__name",
                 *(f"assignee__{field}" for field in DISPLAY_NAME_FIELDS))


def _earliest_of_running_targets(field: str) -> Subquery:
    running = Target.objects.filter(request=OuterRef("pk"), started_at__isnull=False, met_at__isnull=True)
    return Subquery(running.order_by().values("request").annotate(earliest=Min(field)).values("earliest"))


# Set up once per worker: the columns, joins and subqueries cost more to set up than the query takes to run.
_queue_rows = ServiceRequest.objects.values(*QUEUE_COLUMNS, first_due=_earliest_of_running_targets("due_at"),
                                            first_warn=_earliest_of_running_targets("warn_at"))


def queue_rows(page: QuerySet[ServiceRequest], ordering=QUEUE_ORDER) -> list[dict]:
    """What the desk shows of one page of requests (`page`: a sliced, ordered queryset), as dicts in the page's
    order, with the earliest due and warning time of each request's running targets (`first_due`, `first_warn`).
    One query: project, customer and engineer are joined to the page's rows only, through a subquery (joined before
    the sort, SQLite would join every open request of the branch: 9 ms at 1,000,000 requests)."""
    return list(_queue_rows_of(page, ordering))


def _queue_rows_of(page: QuerySet[ServiceRequest], ordering) -> QuerySet:
    """`ordering` is the page's own (`order_by` arguments): the rows come back in the page's order."""
    return _queue_rows.filter(pk__in=page.values("pk")).order_by(*ordering)


def requests_for(user) -> QuerySet[ServiceRequest]:
    return visible(ServiceRequest.objects.select_related("project", "customer", "assignee"), user)


def request_with_timeline(user, pk: int) -> ServiceRequest:
    from aftersales.core.scoping import get_visible_or_404

    queryset = ServiceRequest.objects.select_related("project__customer", "customer", "assignee", "advisor", "policy").prefetch_related(
        Prefetch("events", queryset=TimelineEvent.objects.select_related("actor").order_by("at", "pk")),
        "targets", "devices", "work_orders__engineer", "work_orders__attachments", "attachments", "visits__engineer",
    )
    return get_visible_or_404(queryset, user, pk=pk)


EVENT_COLUMNS = ("id", "kind", "at", "text", "data", *(f"actor__{field}" for field in DISPLAY_NAME_FIELDS))
_request_page = CompiledByKey()


def request_page(pk: int, scope, *, fields: tuple, target_fields: tuple) -> tuple | None:
    """The request `pk` if `scope` sees it, as (its `fields`, its devices' ids, its targets' `target_fields`, its
    timeline's EVENT_COLUMNS): four narrow queries, each compiled once per process (per scope for the first)."""
    def request_row(pk):
        return scope.apply(ServiceRequest.objects.order_by()).filter(pk=pk).values(*fields)

    rows = _request_page.get(("request", scope, fields), request_row).rows(pk)
    if not rows:
        return None
    devices = _request_page.get("devices", lambda pk: Device.objects.filter(requests=pk).values("pk")).rows(pk)
    targets = _request_page.get(("targets", target_fields),
                                lambda pk: Target.objects.filter(request=pk).values(*target_fields)).rows(pk)
    events = _request_page.get("events", lambda pk: TimelineEvent.objects.filter(request=pk).values(
        *EVENT_COLUMNS)).rows(pk)
    return rows[0], [device["pk"] for device in devices], targets, events
