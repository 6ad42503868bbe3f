"""Lists of requests: the desk queue (open requests, the next due first, SRQ-4), every request the user may see
(for a customer's user 我的报修, in their own order, SRQ-2), and the engineer's phone page 我的工作."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Prefetch, Q, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core import clock
from aftersales.core.scoping import visible
from aftersales.core.views import CountedBy, ScopedListView, ScopedMixin

from .. import actions as rules
from .. import selectors
from ..forms import ArriveForm, CustomerOrderForm, DeskFilter, RequestListFilter
from ..models import OPEN_STATES, ServiceMode, ServiceRequest, State, Visit, WorkOrder, WorkOrderState
from .common import open_targets_prefetch, safe_next

MY_WORK_LIMIT = 50


class DeskQueue(ScopedListView):
    """Open requests, the next due first, with SLA countdowns coloured by risk. A fixed number of queries."""

    model = ServiceRequest
    permission_required = "service.handle_request"
    filterset_class = DeskFilter
    template_name = "service/desk_queue.html"
    sort_fields = {"due": "next_due_at", "created": "created_at", "escalation": "escalation_level"}
    search_count_limit = 1_000

    def get_queryset(self):
        queryset = selectors.desk_queue(self.request.user)
        by_request = self.sorted_by_request(queryset, tiebreak="pk")
        return queryset if by_request is None else by_request

    def get_template_names(self):
        return ["service/_queue_table.html"] if self.request.htmx else [self.template_name]

    compiled = None  # the compiled queue of the chosen filters, unless a search is part of them

    def paginate_queryset(self, queryset, page_size):
        """Counted (and, in the queue's own order, paged) by the compiled queue query unless a search is part of
        the filter."""
        form = self.filterset.form
        if form.is_valid() and all(form.cleaned_data.get(name) in (None, "") for name in ("q", *DeskFilter.BY_METHOD)):
            lookups = {f"{name}_id" if hasattr(value, "pk") else name: getattr(value, "pk", value)
                       for name, value in form.cleaned_data.items() if name != "q" and value not in (None, "")}
            self.compiled = selectors.CompiledQueue(self.request.user, lookups)
            queryset = CountedBy(queryset, self.compiled.count)
        return super().paginate_queryset(queryset, page_size)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        if self.compiled is not None and not self.current_sort():
            # The page's window in the queue: start_index() counts from 1, and is 0 on an empty queue.
            start = max(page.start_index() - 1, 0)
            rows = self.compiled.desk_rows(start, page.end_index())
        else:
            ordering = self.requested_ordering(tiebreak="pk") or selectors.QUEUE_ORDER
            rows = selectors.queue_rows(page.object_list, ordering)
        return {**context, "rows": rows, "now": clock.now()}


class RequestList(ScopedListView):
    """Every request the user may see. For a customer's user this is 我的报修: open requests first, in the
    customer's own order (SRQ-2), which they can change here."""

    model = ServiceRequest
    permission_required = "service.view_servicerequest"
    filterset_class = RequestListFilter
    template_name = "service/request_list.html"
    sort_fields = {"number": "pk", "created": "created_at", "due": "next_due_at"}
    search_count_limit = 1_000

    def get_queryset(self):
        queryset = selectors.requests_for(self.request.user).prefetch_related(open_targets_prefetch())
        by_request = self.sorted_by_request(queryset)
        if by_request is not None:
            return by_request
        if self.request.user.customer_id:
            is_open = Case(When(state__in=OPEN_STATES, then=Value(0)), default=Value(1), output_field=IntegerField())
            return queryset.order_by(is_open, F("customer_rank").asc(nulls_last=True), "-pk")
        return queryset.order_by("-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["now"] = clock.now()
        context["can_order"] = bool(self.request.user.customer_id)
        if self.request.user.customer_id:
            context["awaiting_confirmation"] = awaiting_confirmation(self.request.user)
        return context

    def post(self, request, *args, **kwargs):
        """The customer's order of their open requests; staff have nothing to order here."""
        if not request.user.customer_id:
            raise PermissionDenied
        open_requests = selectors.requests_for(request.user).filter(state__in=OPEN_STATES)
        form = CustomerOrderForm(request.POST, requests=open_requests)
        if form.is_valid():
            form.save()
            messages.success(request, _("Your order of the open requests is saved."))
        else:
            messages.error(request, _("Use whole numbers from 1 to 99 for the order."))
        return redirect(safe_next(request, reverse("service:request_list")))


def awaiting_confirmation(user, limit: int = 20) -> list[ServiceRequest]:
    """Issue 21 §9: the customer's requests with a work order or an incident report waiting for their answer."""
    waiting = Q(work_orders__state=WorkOrderState.AWAITING_CONFIRMATION) | Q(
        incident_report__state=WorkOrderState.AWAITING_CONFIRMATION)
    return list(visible(ServiceRequest.objects.filter(waiting), user).distinct().order_by("-pk")
                .only("pk", "number", "title")[:limit])


class MyWork(ScopedMixin, View):
    """我的工作: the engineer's open assignments and the sites they have not left yet, on a phone. Each card offers
    the buttons of the actions service.actions allows now."""

    model = ServiceRequest
    permission_required = "service.work_on_request"

    def get(self, request):
        user = request.user
        still_on_site = Visit.objects.filter(engineer=user, arrived_at__isnull=False, left_at__isnull=True).values("request_id")
        requests = list(
            visible(ServiceRequest.objects.all(), user)
            .filter(Q(assignee=user, state__in=OPEN_STATES) | Q(pk__in=still_on_site))
            .select_related("project", "customer", "incident_report")  # what the actions' guards read
            .prefetch_related(open_targets_prefetch(), Prefetch("visits", queryset=Visit.objects.order_by("pk")),
                              Prefetch("work_orders", queryset=WorkOrder.objects.order_by("pk")))
            .order_by(F("next_due_at").asc(nulls_last=True), "pk")[:MY_WORK_LIMIT]
        )
        for item in requests:
            allowed = rules.allowed_actions(user, item)
            item.can_depart = "depart" in allowed
            item.can_arrive = "arrive" in allowed
            # On the phone the work order is offered on site, or for a plan without a visit assigned to this engineer.
            item.can_work_order = "work_order" in allowed and (item.state == State.ON_SITE or (
                item.assignee_id == user.pk and item.service_mode != ServiceMode.ONSITE))
            item.can_sign = "sign" in allowed
            item.can_leave = "leave" in allowed
        return render(request, "service/my_work.html", {
            "requests": requests, "now": clock.now(), "arrive_form": ArriveForm(), "limit": MY_WORK_LIMIT,
        })
