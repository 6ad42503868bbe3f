"""Pages of service requests (SRQ-1..10): the desk queue and phone intake, the request page with its
timeline and actions, the engineer's phone page, the customer portal and confirmation by signed link.

Views stay thin: a form parses the input, a service decides, the page shows the result. A DomainError
becomes a form message (422 for htmx); an IllegalTransition or StaleObject a clear conflict message
(409 for htmx). Nothing here answers 500 for bad input, and every object is reached through `visible()`.
"""


from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Case, F, IntegerField, Prefetch, Q, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.core.views import CountedBy, ScopedDetailView, ScopedListView, ScopedMixin
from aftersales.customers.models import Project

from . import confirmation, dispatching, selectors, verbs
from .verbs.field import FAR_FROM_SITE_M
from .forms import (
    AdvisorForm, ArriveForm, AttachmentsForm, CommentForm, ConfirmForm, ContingencyForm, CustomerOrderForm, DeskFilter,
    DeskIntakeForm, DispatchForm, IncidentConfirmForm, IncidentLinkRejectForm, IncidentRejectForm, IncidentReportForm,
    IncidentSubmitForm, LinkConfirmForm, LinkRejectForm, PortalRequestForm, PriorityForm, ReasonForm, RejectForm,
    ReplyForm, RequestListFilter, ResumeForm, SignatureForm, WorkOrderForm,
)
from .models import (
    ALLOWED, OPEN_STATES, PRIORITY_DEFINITIONS, Attachment, IncidentReport, Priority, ServiceMode, ServiceRequest, State,
    Target, Visit, WorkOrder, WorkOrderState,
)

DEVICE_CHOICES_LIMIT = 300
PROJECT_RESULTS_LIMIT = 20
MY_WORK_LIMIT = 50
# SRQ-7: the engineer leaves only after the customer has confirmed (or rejected) the work order.
STAY_ON_SITE = (State.ON_SITE, State.RESOLVED)


def open_targets_prefetch() -> Prefetch:
    """The running targets of each row in one query: the countdown's warning time and the risk colour."""
    return Prefetch("targets", queryset=Target.objects.filter(started_at__isnull=False, met_at__isnull=True),
                    to_attr="open_targets")


def priority_choices():
    """Each priority with the seed's definition, shown where the user chooses (SRQ-2)."""
    return [(value, label, PRIORITY_DEFINITIONS[value]) for value, label in Priority.choices]


def add_domain_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def safe_next(http_request, default: str) -> str:
    wanted = http_request.POST.get("next") or http_request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={http_request.get_host()},
                                                  require_https=http_request.is_secure()):
        return wanted
    return default


def done(http_request, url: str) -> HttpResponse:
    """After a successful POST: htmx follows HX-Redirect (the whole page shows the new state), a form redirects."""
    if http_request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def error_status(http_request, status: int) -> int:
    """htmx swaps 409/422 bodies (base.html's htmx-config); a plain form post shows the page with its message."""
    return status if http_request.htmx else 200


# ------------------------------------------------------------------------------------------ desk queue

class DeskQueue(ScopedListView):
    """Open requests, the next due first, with SLA countdowns coloured by risk. A fixed number of queries."""

    model = ServiceRequest
    permission_required = "service.handle_request"
    filterset_class = DeskFilter
    template_name = "service/desk_queue.html"
    sort_fields = {"due": "next_due_at", "created": "created_at", "escalation": "escalation_level"}

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
        if form.is_valid() and not form.cleaned_data.get("q"):
            lookups = {f"{name}_id" if hasattr(value, "pk") else name: getattr(value, "pk", value)
                       for name, value in form.cleaned_data.items() if name != "q" and value not in (None, "")}
            self.compiled = selectors.CompiledQueue(self.request.user, lookups)
            queryset = CountedBy(queryset, self.compiled.count)
        return super().paginate_queryset(queryset, page_size)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"].object_list
        if self.compiled is not None and not self.current_sort():
            rows = self.compiled.desk_rows(page.query.low_mark, page.query.high_mark)
        else:
            rows = selectors.queue_rows(page, self.requested_ordering(tiebreak="pk") or selectors.QUEUE_ORDER)
        return {**context, "rows": rows, "now": clock.now()}


class RequestList(ScopedListView):
    """Every request the user may see. For a customer's user this is 我的报修: open requests first, in the
    customer's own order (SRQ-2), which they can change here."""

    model = ServiceRequest
    permission_required = "service.view_servicerequest"
    filterset_class = RequestListFilter
    template_name = "service/request_list.html"
    sort_fields = {"number": "pk", "created": "created_at", "due": "next_due_at"}

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


# ------------------------------------------------------------------------------------------ intake

class IntakeBase(ScopedMixin, View):
    model = ServiceRequest
    form_class = None
    template_name = "service/request_form.html"
    desk = False

    def get(self, request):
        return self.render(self.form_class(user=request.user))

    def post(self, request):
        form = self.form_class(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                created = verbs.open_request(by=request.user, uploads=form.cleaned_data["attachments"],
                                             **form.open_arguments())
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Request %(number)s is opened.") % {"number": created.number})
                return redirect(created)
        return self.render(form, status=error_status(request, 422))

    def render(self, form, status=200):
        project = None
        project_id = form["project"].value()
        if project_id and str(project_id).isdigit():
            project = form.fields["project"].queryset.filter(pk=project_id).first()
        devices = device_choices(self.request.user, project) if project else []
        return render(self.request, self.template_name, {
            "form": form, "desk": self.desk, "priorities": priority_choices(), "selected_project": project,
            "selected_projects": [project] if project else [],
            "devices": devices, "selected_devices": form.selected_device_ids(), "device_limit": DEVICE_CHOICES_LIMIT,
        }, status=status)


class DeskIntake(IntakeBase):
    """The fast phone-call form of the desk (SRQ-1)."""

    permission_required = "service.handle_request"
    form_class = DeskIntakeForm
    desk = True


class PortalSubmit(IntakeBase):
    """报修: a customer reports a problem in the portal."""

    permission_required = "service.add_servicerequest"
    form_class = PortalRequestForm


def device_choices(user, project, query: str = "", keep=()):
    """The project's devices (scoped), filtered by `query`; devices already ticked (`keep`) stay listed."""
    devices = (visible(Device.objects.select_related("category"), user).filter(project=project)
               .order_by("category__name", "name", "pk"))
    if query:
        devices = devices.filter(Q(name__icontains=query) | Q(serial_number__icontains=query)
                                 | Q(location__icontains=query) | Q(pk__in=list(keep)))
    return list(devices[:DEVICE_CHOICES_LIMIT])


class ProjectSearch(ScopedMixin, View):
    """htmx: projects matching a customer or project name, a contract number or a phone number; scoped."""

    model = Project
    permission_required = "service.handle_request"

    def get(self, request):
        query = request.GET.get("q", "").strip()[:100]
        projects = []
        if query:
            projects = list(
                visible(Project.objects.select_related("customer"), request.user)
                .filter(Q(name__icontains=query) | Q(contract_number__icontains=query) | Q(customer__name__icontains=query)
                        | Q(customer__short_name__icontains=query) | Q(customer__phone__icontains=query)
                        | Q(pk__in=Project.objects.filter(Q(customer__contacts__phone__icontains=query)
                                                          | Q(customer__contacts__full_name__icontains=query)).values("pk")))
                .order_by("name", "pk")[:PROJECT_RESULTS_LIMIT]
            )
        return render(request, "service/_project_results.html", {"projects": projects, "query": query,
                                                                 "limit": PROJECT_RESULTS_LIMIT})


class DeviceChoices(ScopedMixin, View):
    """htmx: the chosen project's devices as checkboxes; another customer's project lists nothing."""

    model = Device
    permission_required = "service.add_servicerequest"

    def get(self, request):
        project_id = request.GET.get("project", "")
        project = None
        if project_id.isdigit():
            project = visible(Project.objects.all(), request.user).filter(pk=project_id).first()
        selected = {int(v) for v in request.GET.getlist("devices") if v.isdigit()}
        query = request.GET.get("device_q", "").strip()[:100]
        devices = device_choices(request.user, project, query, keep=selected) if project else []
        return render(request, "service/_device_choices.html", {
            "selected_project": project, "devices": devices, "selected_devices": selected,
            "device_limit": DEVICE_CHOICES_LIMIT, "device_query": query,
        })


# ------------------------------------------------------------------------------------------ request page

def request_queryset():
    return ServiceRequest.objects.select_related("project__customer", "customer", "assignee", "advisor", "policy")


def awaiting_work_order(request_obj):
    orders = [wo for wo in request_obj.work_orders.all() if wo.state == WorkOrderState.AWAITING_CONFIRMATION]
    return orders[-1] if orders else None


class RequestDetail(ScopedDetailView):
    """The request with its timeline, targets, visits, work orders and the actions the user may take now."""

    model = ServiceRequest
    permission_required = "service.view_servicerequest"
    template_name = "service/request_detail.html"

    def get_object(self, queryset=None):
        return selectors.request_with_timeline(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_context(self.request, self.object))
        return context


def page_context(http_request, request_obj) -> dict:
    user = http_request.user
    now = clock.now()
    work_orders = list(request_obj.work_orders.all())
    files = list(request_obj.attachments.all())
    for work_order in work_orders:
        work_order.files = [a for a in files if a.work_order_id == work_order.pk]
    actions = []
    for action in ACTIONS:
        if user.has_perms(action.required_permissions()) and action.available(user, request_obj):
            actions.append(action.panel(http_request, request_obj))
    report = incident_report_of(request_obj)
    if report is not None and user.customer_id and report.state == WorkOrderState.DRAFT:
        report = None  # the customer sees the report once it is submitted to them
    return {
        "now": now, "is_customer": bool(user.customer_id), "work_orders": work_orders, "incident_report": report,
        "request_files": [a for a in files if a.work_order_id is None], "actions": actions,
        "visits": list(request_obj.visits.all()), "targets": list(request_obj.targets.all()),
        "far_m": FAR_FROM_SITE_M,
        "devices": list(request_obj.devices.all()),
    }


class AttachmentDownload(ScopedMixin, View):
    """The only way to an uploaded file: scoped, never a media URL (lessons.md #7)."""

    model = Attachment
    permission_required = "service.view_servicerequest"

    def get(self, request, pk):
        attachment = get_visible_or_404(Attachment.objects.all(), request.user, pk=pk)
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise Http404 from None
        inline = attachment.content_type.startswith("image/")
        response = FileResponse(handle, as_attachment=not inline, filename=attachment.original_name,
                                content_type=attachment.content_type)
        response["Content-Security-Policy"] = "sandbox"  # an uploaded file never runs as our page
        response["Cache-Control"] = "private, max-age=0"
        return response


# ------------------------------------------------------------------------------------------ actions

class RequestAction(ScopedMixin, View):
    """One verb on one request. GET shows its form alone (a page, or the fragment for htmx); POST calls the
    service. A form carries the version of the request the user saw; the verb compares it under its lock."""

    model = ServiceRequest
    permission_required = "service.handle_request"
    name = ""
    title = ""
    form_class = None
    partial = "service/_action_form.html"
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"
    success_message = ""
    expanded = False

    # -- what the request page asks
    @classmethod
    def required_permissions(cls):
        perms = cls.permission_required
        return [perms] if isinstance(perms, str) else list(perms)

    @classmethod
    def available(cls, user, request_obj) -> bool:
        return request_obj.is_open

    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None):
        return cls.form_class(data, files, initial=cls.initial(request_obj), **cls.form_kwargs(request_obj))

    @classmethod
    def initial(cls, request_obj) -> dict:
        return {"version": request_obj.version}

    @classmethod
    def form_kwargs(cls, request_obj) -> dict:
        return {}

    @classmethod
    def extra_context(cls, http_request, request_obj) -> dict:
        return {}

    @classmethod
    def panel(cls, http_request, request_obj, form=None) -> dict:
        return {
            "name": cls.name, "title": cls.title, "url": reverse(f"service:{cls.name}", args=[request_obj.pk]),
            "form": form or cls.make_form(request_obj, http_request.user), "partial": cls.partial,
            "submit_label": cls.submit_label, "button_class": cls.button_class, "expanded": cls.expanded,
            "available": cls.available(http_request.user, request_obj), "priorities": priority_choices(),
            **cls.extra_context(http_request, request_obj),
        }

    # -- HTTP
    def get_object(self):
        return get_visible_or_404(request_queryset(), self.request.user, pk=self.kwargs["pk"])

    def get(self, request, pk):
        request_obj = self.get_object()
        return self.render(request_obj, self.make_form(request_obj, request.user))

    def post(self, request, pk):
        request_obj = self.get_object()
        form = self.make_form(request_obj, request.user, request.POST, request.FILES)
        status = 422
        if form.is_valid():
            try:
                self.perform(request_obj, form)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return done(request, safe_next(request, request_obj.get_absolute_url()))
        if status == 409:
            request_obj = self.get_object()  # show what the request is now
            if not request.htmx and "version" in form.fields:
                # The page below shows the request as it is now; sending the form again is a deliberate choice.
                form.data = form.data.copy()
                form.data["version"] = request_obj.version
        return self.render(request_obj, form, status=error_status(request, status))

    def render(self, request_obj, form, status=200):
        panel = self.panel(self.request, request_obj, form)
        context = {"object": request_obj, "action": panel, "now": clock.now(),
                   "next": safe_next(self.request, "")}
        template = "service/_action.html" if self.request.htmx else "service/action_page.html"
        return render(self.request, template, context, status=status)

    def perform(self, request_obj, form):
        raise NotImplementedError


class Reply(RequestAction):
    name, title = "reply", gettext_lazy("Reply with a service plan")
    form_class = ReplyForm
    submit_label = gettext_lazy("Send the plan")
    success_message = gettext_lazy("The service plan is recorded.")
    expanded = True

    @classmethod
    def available(cls, user, request_obj):
        return request_obj.state == State.NEW

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.reply(request=request_obj, by=self.request.user, mode=data["mode"], plan=data["plan"],
                       scheduled_for=data["scheduled_for"], version=data["version"])


class Dispatch(RequestAction):
    name, title = "dispatch", gettext_lazy("Dispatch an engineer")
    form_class = DispatchForm
    partial = "service/_dispatch_form.html"
    submit_label = gettext_lazy("Dispatch")
    success_message = gettext_lazy("The engineer is dispatched.")
    expanded = True

    @classmethod
    def available(cls, user, request_obj):
        return State.DISPATCHED in ALLOWED[request_obj.state] or request_obj.state == State.NEW

    @classmethod
    def form_kwargs(cls, request_obj):
        return {"request": request_obj}

    @classmethod
    def extra_context(cls, http_request, request_obj):
        # SRQ-6: ranked by duty, specialty, distance and load, each with its reasons.
        return {"suggestions": dispatching.suggest(request_obj, at=clock.now())}

    def perform(self, request_obj, form):
        verbs.dispatch(request=request_obj, by=self.request.user, engineer=form.cleaned_data["engineer"],
                          version=form.cleaned_data["version"])


class Pause(RequestAction):
    name, title = "pause", gettext_lazy("Pause the clock (waiting for the owner)")
    form_class = ReasonForm
    submit_label = gettext_lazy("Pause")
    button_class = "btn-outline-secondary"
    success_message = gettext_lazy("The clock is paused.")

    @classmethod
    def available(cls, user, request_obj):
        return request_obj.is_open and not request_obj.paused

    def perform(self, request_obj, form):
        verbs.pause(request=request_obj, by=self.request.user, version=form.cleaned_data["version"],
                    reason=form.cleaned_data["reason"])


class Resume(RequestAction):
    name, title = "resume", gettext_lazy("Resume the clock")
    form_class = ResumeForm
    submit_label = gettext_lazy("Resume")
    success_message = gettext_lazy("The clock runs again.")
    expanded = True

    @classmethod
    def available(cls, user, request_obj):
        return request_obj.paused

    def perform(self, request_obj, form):
        verbs.resume(request=request_obj, by=self.request.user, version=form.cleaned_data["version"])


class ChangePriority(RequestAction):
    name, title = "priority", gettext_lazy("Change the priority")
    form_class = PriorityForm
    partial = "service/_priority_form.html"
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The priority is changed; the due times are recomputed.")

    @classmethod
    def initial(cls, request_obj):
        return {"version": request_obj.version, "priority": request_obj.priority}

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.change_priority(request=request_obj, by=self.request.user, priority=data["priority"],
                                 reason=data["reason"], version=data["version"])


class Contingency(RequestAction):
    name, title = "contingency", gettext_lazy("Agreed contingency plan")
    form_class = ContingencyForm
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The contingency plan is recorded.")

    @classmethod
    def initial(cls, request_obj):
        return {"version": request_obj.version, "plan": request_obj.contingency_plan}

    def perform(self, request_obj, form):
        verbs.record_contingency(request=request_obj, by=self.request.user, version=form.cleaned_data["version"],
                                 plan=form.cleaned_data["plan"])


class HandToAdvisor(RequestAction):
    name, title = "advisor", gettext_lazy("Hand to a technical advisor")
    form_class = AdvisorForm
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The technical advisor is asked.")

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.hand_to_advisor(request=request_obj, by=self.request.user, version=data["version"], advisor=data["advisor"],
                              note=data["note"])


class Cancel(RequestAction):
    name, title = "cancel", gettext_lazy("Cancel the request")
    form_class = ReasonForm
    submit_label = gettext_lazy("Cancel the request")
    button_class = "btn-outline-danger"
    success_message = gettext_lazy("The request is cancelled.")

    @classmethod
    def available(cls, user, request_obj):
        return State.CANCELLED in ALLOWED[request_obj.state]

    def perform(self, request_obj, form):
        verbs.cancel(request=request_obj, by=self.request.user, version=form.cleaned_data["version"],
                     reason=form.cleaned_data["reason"])


class Comment(RequestAction):
    """Staff and the customer's users; comments are seen by both, and add to the timeline only."""

    name, title = "comment", gettext_lazy("Comment")
    permission_required = "service.view_servicerequest"
    form_class = CommentForm
    submit_label = gettext_lazy("Add the comment")
    button_class = "btn-outline-primary"

    @classmethod
    def available(cls, user, request_obj):
        return True

    def perform(self, request_obj, form):
        verbs.comment(request=request_obj, by=self.request.user, text=form.cleaned_data["text"])


# -- the engineer's verbs: the state machine guards them (a second tap is an IllegalTransition), so a
# priority change by the desk meanwhile does not block an engineer standing on site.

class EngineerAction(RequestAction):
    permission_required = "service.work_on_request"
    form_class = forms.Form
    expanded = True

    @classmethod
    def initial(cls, request_obj):
        return {}


class Depart(EngineerAction):
    name, title = "depart", gettext_lazy("Depart")
    submit_label = gettext_lazy("Depart")
    success_message = gettext_lazy("Departure recorded.")

    @classmethod
    def available(cls, user, request_obj):
        return request_obj.state == State.DISPATCHED and request_obj.assignee_id == user.pk

    def perform(self, request_obj, form):
        verbs.depart(request=request_obj, by=self.request.user)


class Arrive(EngineerAction):
    name, title = "arrive", gettext_lazy("Arrive on site")
    form_class = ArriveForm
    partial = "service/_arrive_panel.html"
    submit_label = gettext_lazy("Arrive")
    success_message = gettext_lazy("Arrival recorded.")

    @classmethod
    def available(cls, user, request_obj):
        return request_obj.state in (State.DISPATCHED, State.EN_ROUTE) and request_obj.assignee_id == user.pk

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.arrive(request=request_obj, by=self.request.user, latitude=data["latitude"], longitude=data["longitude"],
                     accuracy_m=data["accuracy"], photo=data["photo"] or None,
                     confirmed_by_customer=data["confirmed_by_customer"])


class Leave(EngineerAction):
    name, title = "leave", gettext_lazy("Leave the site")
    submit_label = gettext_lazy("Leave")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("Leaving recorded.")

    @classmethod
    def available(cls, user, request_obj):
        return request_obj.state not in STAY_ON_SITE and any(
            v.engineer_id == user.pk and v.arrived_at and not v.left_at for v in request_obj.visits.all())

    def perform(self, request_obj, form):
        verbs.leave(request=request_obj, by=self.request.user)


class SubmitWorkOrder(EngineerAction):
    name, title = "work_order", gettext_lazy("Work order")
    form_class = WorkOrderForm
    partial = "service/_work_order_form.html"
    submit_label = gettext_lazy("Submit the work order")
    success_message = gettext_lazy("The work order is submitted and waits for the customer's confirmation.")

    @classmethod
    def available(cls, user, request_obj):
        return request_obj.state in (State.ON_SITE, State.REPLIED)

    @classmethod
    def initial(cls, request_obj):
        return {"version": request_obj.version}

    on_site = False

    def perform(self, request_obj, form):
        data = form.cleaned_data
        verbs.submit_work_order(request=request_obj, by=self.request.user, version=data["version"],
                                actions=data["actions"], minutes_spent=data["minutes_spent"], result=data["result"],
                                parts_used=data["parts_used"], uploads=data["attachments"])
        self.on_site = request_obj.state == State.ON_SITE

    def post(self, request, pk):
        response = super().post(request, pk)
        if self.on_site and response.status_code in (204, 302):
            # On site the customer signs next (SRQ-7: the engineer leaves only after the confirmation).
            return done(request, reverse("service:sign", args=[pk]))
        return response


# -- confirmation of a work order: on the engineer's screen with a signature, or in the portal

class WorkOrderDecision(RequestAction):
    """Confirm or reject the work order awaiting confirmation (`decision` = confirm / reject)."""

    confirm_form, reject_form = ConfirmForm, RejectForm
    expanded = True
    via = ""

    @classmethod
    def available(cls, user, request_obj):
        return awaiting_work_order(request_obj) is not None

    @classmethod
    def initial(cls, request_obj):
        work_order = awaiting_work_order(request_obj)
        return {"work_order": work_order.pk, "work_order_version": work_order.version} if work_order else {}

    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None, decision="confirm"):
        form_class = cls.reject_form if decision == "reject" else cls.confirm_form
        return form_class(data, files, initial=cls.initial(request_obj), prefix=decision)

    @classmethod
    def panel(cls, http_request, request_obj, form=None):
        panel = super().panel(http_request, request_obj, form)
        bound_reject = form is not None and isinstance(form, cls.reject_form)
        panel["confirm_form"] = cls.make_form(request_obj, http_request.user) if bound_reject or form is None else form
        panel["reject_form"] = form if bound_reject else cls.make_form(request_obj, http_request.user, decision="reject")
        panel["work_order"] = awaiting_work_order(request_obj)
        return panel

    def get_object(self):
        queryset = request_queryset().prefetch_related("work_orders__engineer")
        return get_visible_or_404(queryset, self.request.user, pk=self.kwargs["pk"])

    def post(self, request, pk):
        request_obj = self.get_object()
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        form = self.make_form(request_obj, request.user, request.POST, request.FILES, decision=decision)
        status = 422
        if form.is_valid():
            try:
                work_order = get_visible_or_404(WorkOrder.objects.filter(request=request_obj), request.user,
                                                pk=form.cleaned_data["work_order"])
                if decision == "reject":
                    self.reject(work_order, form)
                else:
                    self.confirm(work_order, form)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if decision == "reject":
                    messages.warning(request, _("The work is rejected; the request is reopened."))
                else:
                    messages.success(request, _("The work order is confirmed; the request is closed."))
                return done(request, safe_next(request, self.success_url(request_obj)))
        if status == 409:
            request_obj = self.get_object()
        return self.render(request_obj, form, status=error_status(request, status))

    def success_url(self, request_obj):
        return request_obj.get_absolute_url()

    def reject(self, work_order, form):
        data = form.cleaned_data
        verbs.reject_work_order(work_order=work_order, by=self.request.user, reason=data["reason"], via=self.via,
                                   version=data["work_order_version"])


class ConfirmInPortal(WorkOrderDecision):
    """The customer's user confirms or rejects in the portal (SRQ-7)."""

    name, title = "confirm", gettext_lazy("Confirm the work")
    permission_required = "service.confirm_work"
    partial = "service/_confirm_form.html"
    via = "portal"

    def confirm(self, work_order, form):
        data = form.cleaned_data
        verbs.confirm_work_order(work_order=work_order, by=self.request.user, via=self.via,
                                    version=data["work_order_version"], satisfaction=data["satisfaction"],
                                    comment=data["comment"])


class SignOnScreen(WorkOrderDecision):
    """The customer signs on the engineer's screen (signature pad → PNG). The signer is the customer's
    person on site, who has no login: the work order records their name and signature, not a user."""

    name, title = "sign", gettext_lazy("Customer's signature")
    permission_required = "service.work_on_request"
    partial = "service/_signature_form.html"
    confirm_form = SignatureForm
    via = "signature"

    def confirm(self, work_order, form):
        data = form.cleaned_data
        verbs.confirm_work_order(work_order=work_order, by=None, signer_name=data["signer_name"], via=self.via,
                                    version=data["work_order_version"], signature=data["signature"],
                                    satisfaction=data["satisfaction"], comment=data["comment"])

    def reject(self, work_order, form):
        # Recorded by the engineer on whose screen the customer refused to sign.
        data = form.cleaned_data
        verbs.reject_work_order(work_order=work_order, by=self.request.user, reason=data["reason"], via="onsite",
                                   version=data["work_order_version"])

    def success_url(self, request_obj):
        return reverse("service:my_work")


# -- incident reports (SRQ-8): written by staff, submitted to the customer, confirmed or rejected by them.
# The report has its own version (the forms carry `report_version`), checked by the verbs.

def incident_report_of(request_obj) -> IncidentReport | None:
    try:
        return request_obj.incident_report
    except IncidentReport.DoesNotExist:
        return None


class IncidentAction(RequestAction):
    expanded = True

    def get_object(self):
        return get_visible_or_404(request_queryset().select_related("incident_report"), self.request.user,
                                  pk=self.kwargs["pk"])

    @classmethod
    def extra_context(cls, http_request, request_obj):
        return {"report": incident_report_of(request_obj)}


class WriteIncidentReport(IncidentAction):
    """The draft: written, and revised after a rejection. A concurrent save is shown with the report as it
    is now; the text typed is kept, and saving again is a deliberate choice."""

    name, title = "incident_report", gettext_lazy("Incident report")
    permission_required = "service.add_incidentreport"
    form_class = IncidentReportForm
    partial = "service/_incident_report_form.html"
    submit_label = gettext_lazy("Save the draft")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The incident report draft is saved.")
    expanded = False
    conflict = False

    @classmethod
    def available(cls, user, request_obj):
        report = incident_report_of(request_obj)
        return report is None or report.state in (WorkOrderState.DRAFT, WorkOrderState.REJECTED)

    @classmethod
    def initial(cls, request_obj):
        report = incident_report_of(request_obj)
        if report is None:
            return {}
        return {"report_version": report.version, **{name: getattr(report, name) for name in verbs.INCIDENT_FIELDS}}

    def perform(self, request_obj, form):
        data = form.cleaned_data
        report, seen = incident_report_of(request_obj), data["report_version"]
        try:
            if (report is None) != (seen is None):  # written (or gone) since the form was shown
                raise StaleObject()
            try:
                verbs.save_incident_report(request=request_obj, by=self.request.user, version=seen,
                                              **{name: data[name] for name in verbs.INCIDENT_FIELDS})
            except IntegrityError:  # two first drafts at the same moment: the first is kept
                raise StaleObject() from None
        except StaleObject:
            self.conflict = True
            raise

    def render(self, request_obj, form, status=200):
        if self.conflict and form.is_bound:
            # The panel shows the report as saved now next to the text typed; saving again overwrites it.
            current = incident_report_of(request_obj)
            form.data = form.data.copy()
            form.data["report_version"] = current.version if current else ""
            form.conflict = True
        return super().render(request_obj, form, status=status)

    @classmethod
    def panel(cls, http_request, request_obj, form=None):
        panel = super().panel(http_request, request_obj, form)
        panel["conflict"] = getattr(form, "conflict", False)
        return panel


class SubmitIncidentReport(IncidentAction):
    name, title = "submit_incident", gettext_lazy("Submit the incident report to the customer")
    permission_required = "service.add_incidentreport"
    form_class = IncidentSubmitForm
    partial = "service/_incident_submit_form.html"
    submit_label = gettext_lazy("Submit to the customer")
    success_message = gettext_lazy("The incident report is submitted and waits for the customer's confirmation.")

    @classmethod
    def available(cls, user, request_obj):
        report = incident_report_of(request_obj)
        return report is not None and report.state in (WorkOrderState.DRAFT, WorkOrderState.REJECTED)

    @classmethod
    def initial(cls, request_obj):
        report = incident_report_of(request_obj)
        return {"report_version": report.version} if report else {}

    def perform(self, request_obj, form):
        report = incident_report_of(request_obj)
        if report is None:
            raise IllegalTransition(_("There is no incident report to submit yet."))
        verbs.submit_incident_report(report=report, by=self.request.user, version=form.cleaned_data["report_version"])


class AnswerIncidentReport(IncidentAction):
    """The customer's user confirms the incident report in the portal, or rejects it with a reason
    (`decision` = confirm / reject)."""

    name, title = "answer_incident", gettext_lazy("Confirm the incident report")
    permission_required = "service.confirm_work"
    partial = "service/_incident_answer_form.html"

    @classmethod
    def available(cls, user, request_obj):
        report = incident_report_of(request_obj)
        return report is not None and report.state == WorkOrderState.AWAITING_CONFIRMATION

    @classmethod
    def initial(cls, request_obj):
        report = incident_report_of(request_obj)
        return {"report_version": report.version} if report else {}

    @classmethod
    def make_form(cls, request_obj, user, data=None, files=None, decision="confirm"):
        form_class = IncidentRejectForm if decision == "reject" else IncidentConfirmForm
        return form_class(data, files, initial=cls.initial(request_obj), prefix=decision)

    @classmethod
    def panel(cls, http_request, request_obj, form=None):
        panel = super().panel(http_request, request_obj, form)
        bound_reject = isinstance(form, IncidentRejectForm)
        panel["confirm_form"] = cls.make_form(request_obj, http_request.user) if bound_reject or form is None else form
        panel["reject_form"] = form if bound_reject else cls.make_form(request_obj, http_request.user, decision="reject")
        return panel

    def post(self, request, pk):
        request_obj = self.get_object()
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        form = self.make_form(request_obj, request.user, request.POST, request.FILES, decision=decision)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = incident_report_of(request_obj)
                if report is None:
                    raise IllegalTransition(_("No incident report is waiting for your confirmation."))
                verbs.answer_incident_report(report=report, by=request.user, accept=decision == "confirm",
                                                reason=data.get("reason", ""), via="portal",
                                                version=data["report_version"])
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                if decision == "reject":
                    messages.warning(request, _("The incident report is rejected; it goes back to its author."))
                else:
                    messages.success(request, _("The incident report is confirmed."))
                return done(request, safe_next(request, request_obj.get_absolute_url()))
        if status == 409:
            request_obj = self.get_object()
        return self.render(request_obj, form, status=error_status(request, status))


class AddAttachments(RequestAction):
    """Screenshots, photos and logs added after the request was opened, by staff and the customer's users.
    All files or none: a rejected file writes nothing."""

    name, title = "add_attachments", gettext_lazy("Add attachments")
    permission_required = "service.view_servicerequest"
    form_class = AttachmentsForm
    partial = "service/_attachments_form.html"
    submit_label = gettext_lazy("Upload")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The files are attached.")

    @classmethod
    def available(cls, user, request_obj):
        return True

    @classmethod
    def initial(cls, request_obj):
        return {}

    def perform(self, request_obj, form):
        verbs.add_attachments(request=request_obj, by=self.request.user, uploads=form.cleaned_data["attachments"])


ACTIONS = [Reply, Dispatch, Depart, Arrive, SubmitWorkOrder, SignOnScreen, Leave, ConfirmInPortal, AnswerIncidentReport,
           Resume, ChangePriority, Pause, Contingency, HandToAdvisor, SubmitIncidentReport, WriteIncidentReport, Comment,
           AddAttachments, Cancel]


# ------------------------------------------------------------------------------------------ engineer's phone page

class MyWork(ScopedMixin, View):
    """我的工作: the engineer's open assignments and the sites they have not left yet, on a phone."""

    model = ServiceRequest
    permission_required = "service.work_on_request"

    def get(self, request):
        user = request.user
        still_on_site = Visit.objects.filter(engineer=user, arrived_at__isnull=False, left_at__isnull=True).values("request_id")
        requests = list(
            visible(ServiceRequest.objects.all(), user)
            .filter(Q(assignee=user, state__in=OPEN_STATES) | Q(pk__in=still_on_site))
            .select_related("project", "customer")
            .prefetch_related(open_targets_prefetch(),
                              Prefetch("visits", queryset=Visit.objects.filter(engineer=user).order_by("-pk"), to_attr="my_visits"),
                              Prefetch("work_orders", queryset=WorkOrder.objects.filter(state=WorkOrderState.AWAITING_CONFIRMATION),
                                       to_attr="awaiting"))
            .order_by(F("next_due_at").asc(nulls_last=True), "pk")[:MY_WORK_LIMIT]
        )
        for item in requests:
            visit = item.my_visits[0] if item.my_visits else None
            item.my_visit = visit
            item.can_depart = item.state == State.DISPATCHED and item.assignee_id == user.pk
            item.can_arrive = item.state in (State.DISPATCHED, State.EN_ROUTE) and item.assignee_id == user.pk
            item.can_work_order = item.state == State.ON_SITE or (
                item.state == State.REPLIED and item.assignee_id == user.pk and item.service_mode != ServiceMode.ONSITE)
            item.can_sign = bool(item.awaiting)
            item.can_leave = bool(visit and visit.arrived_at and not visit.left_at) and item.state not in STAY_ON_SITE
        return render(request, "service/my_work.html", {
            "requests": requests, "now": clock.now(), "arrive_form": ArriveForm(), "limit": MY_WORK_LIMIT,
        })


# ------------------------------------------------------------------------------------------ signed link

class ConfirmByLink(View):
    """SRQ-7: the signed, expiring, single-use link from the notification. No login: the token is the key.
    A bad, expired or used link shows why, and offers nothing to submit."""

    template_name = "service/confirm_link.html"

    def get(self, request, token):
        try:
            work_order = confirmation.work_order_for_token(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message})
        return self.render(work_order, LinkConfirmForm(prefix="confirm"), LinkRejectForm(prefix="reject"))

    def post(self, request, token):
        try:
            work_order = confirmation.work_order_for_token(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message})
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        confirm_form = LinkConfirmForm(request.POST if decision == "confirm" else None, prefix="confirm")
        reject_form = LinkRejectForm(request.POST if decision == "reject" else None, prefix="reject")
        form = reject_form if decision == "reject" else confirm_form
        status = 200
        if form.is_valid():
            data = form.cleaned_data
            user = request.user
            # A logged-in contact of this customer confirms as themselves; anyone else by the name they give.
            by = user if user.is_authenticated and user.customer_id == work_order.request.customer_id else None
            try:
                if decision == "reject":
                    reason = data["reason"] if by else f'{data["reason"]}\n— {data["signer_name"]}'
                    verbs.reject_work_order(work_order=work_order, by=by, reason=reason, via="link",
                                               version=work_order.version)
                else:
                    verbs.confirm_work_order(work_order=work_order, by=by, signer_name=data["signer_name"], via="link",
                                                version=work_order.version, satisfaction=data["satisfaction"],
                                                comment=data["comment"])
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return render(request, self.template_name, {"decided": decision, "work_order": work_order})
        return self.render(work_order, confirm_form, reject_form, status=status)

    def render(self, work_order, confirm_form, reject_form, status=200):
        return render(self.request, self.template_name, {
            "work_order": work_order, "request_obj": work_order.request, "confirm_form": confirm_form,
            "reject_form": reject_form,
        }, status=status)


class ConfirmIncidentByLink(View):
    """SRQ-8: the incident report's signed, expiring, single-use link from the notification; like
    ConfirmByLink. A bad, expired or used link shows why, and offers nothing to submit."""

    template_name = "service/confirm_incident_link.html"

    def get(self, request, token):
        try:
            report = confirmation.incident_report_for_token(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message})
        return self.render(report, IncidentLinkRejectForm(prefix="reject"))

    def post(self, request, token):
        try:
            report = confirmation.incident_report_for_token(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message})
        decision = "reject" if request.POST.get("decision") == "reject" else "confirm"
        reject_form = IncidentLinkRejectForm(request.POST if decision == "reject" else None, prefix="reject")
        if decision == "confirm" or reject_form.is_valid():
            user = request.user
            # A logged-in contact of this customer answers as themselves; anyone else by the name they give.
            by = user if user.is_authenticated and user.customer_id == report.request.customer_id else None
            reason = ""
            if decision == "reject":
                data = reject_form.cleaned_data
                reason = data["reason"] if by else f'{data["reason"]}\n— {data["signer_name"]}'
            try:
                verbs.answer_incident_report(report=report, by=by, accept=decision == "confirm", reason=reason,
                                                via="link", version=report.version)
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                if decision == "confirm":
                    return render(request, self.template_name, {"link_error": error.message})
                add_domain_error(reject_form, error)
            else:
                return render(request, self.template_name, {"decided": decision, "report": report})
        return self.render(report, reject_form)

    def render(self, report, reject_form, status=200):
        return render(self.request, self.template_name, {
            "report": report, "request_obj": report.request, "reject_form": reject_form,
        }, status=status)
