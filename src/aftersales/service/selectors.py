"""Reads of service requests; all go through the scoping function."""

from django.db.models import F, Prefetch, QuerySet

from aftersales.accounts.models import DISPLAY_NAME_FIELDS, User
from aftersales.core.scoping import visible
from aftersales.customers.models import Customer, Project

from .models import OPEN_STATES, ServiceRequest, TimelineEvent


def open_requests(user) -> QuerySet[ServiceRequest]:
    """Open requests, most urgent first (next due time), scoped to the user."""
    queryset = ServiceRequest.objects.filter(state__in=OPEN_STATES).order_by(F("next_due_at").asc(nulls_last=True), "pk")
    return visible(queryset, user)


def desk_queue(user) -> QuerySet[ServiceRequest]:
    """open_requests() with what the desk page shows of each. Related rows are prefetched, not joined: SQLite
    would join every open request of the branch before sorting (9 ms at 1,000,000 requests) instead of 25 rows after."""
    return open_requests(user).prefetch_related(
        Prefetch("project", queryset=Project.objects.only("name")),
        Prefetch("customer", queryset=Customer.objects.only("name")),
        Prefetch("assignee", queryset=User.objects.only(*DISPLAY_NAME_FIELDS)),
    )


def requests_for(user) -> QuerySet[ServiceRequest]:
    return visible(ServiceRequest.objects.select_related("project", "customer", "assignee"), user)


def request_with_timeline(user, pk: int) -> ServiceRequest:
    from aftersales.core.scoping import get_visible_or_404

    queryset = ServiceRequest.objects.select_related("project__customer", "customer", "assignee", "advisor", "policy").prefetch_related(
        Prefetch("events", queryset=TimelineEvent.objects.select_related("actor").order_by("at", "pk")),
        "targets", "devices", "work_orders__engineer", "work_orders__attachments", "attachments", "visits__engineer",
    )
    return get_visible_or_404(queryset, user, pk=pk)


def my_work(user) -> QuerySet[ServiceRequest]:
    """The engineer's open assignments, most urgent first."""
    return (ServiceRequest.objects.filter(assignee=user, state__in=OPEN_STATES)
            .select_related("project", "customer").order_by(F("next_due_at").asc(nulls_last=True), "pk"))
