"""Opening a request (SRQ-1, SRQ-2): the desk's phone-call form, the customer's 报修 form in the portal, and the
htmx pieces both use to find the project and tick the affected devices."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from aftersales.assets.models import IN_SERVICE, Device
from aftersales.core.errors import DomainError
from aftersales.core.scoping import visible
from aftersales.core.views import ScopedMixin
from aftersales.customers.models import Project

from .. import verbs
from ..forms import (
    DeskIntakeForm,
    PortalRequestForm,
    discard_kept_files,
    keep_chosen_files,
    keep_files_for,
)
from ..models import ServiceRequest
from .common import add_domain_error, error_status, priority_choices

DEVICE_CHOICES_LIMIT = 300
PROJECT_RESULTS_LIMIT = 20


def device_choices(user, project, query: str = "", keep=()):
    """The project's devices in service (scoped; issue 22 §3: not the retired), filtered by `query`; devices already
    ticked (`keep`) stay listed."""
    devices = (visible(Device.objects.filter(IN_SERVICE).select_related("category"), user).filter(project=project)
               .order_by("category__name", "name", "pk"))
    if query:
        devices = devices.filter(Q(name__icontains=query) | Q(serial_number__icontains=query)
                                 | Q(location__icontains=query) | Q(pk__in=list(keep)))
    return list(devices[:DEVICE_CHOICES_LIMIT])


class IntakeBase(ScopedMixin, View):
    model = ServiceRequest
    form_class = None
    template_name = "service/request_form.html"
    desk = False

    def get(self, request):
        return self.render(self.form_class(user=request.user))

    def post(self, request):
        form = keep_files_for(self.form_class(request.POST, request.FILES, user=request.user), request.user)
        if form.is_valid():
            try:
                created = verbs.open_request(by=request.user, uploads=form.cleaned_data["attachments"],
                                             **form.open_arguments())
            except DomainError as error:
                add_domain_error(form, error)
            else:
                discard_kept_files(self.form_class, request.POST, request.user)  # they are attachments now
                messages.success(request, _("Request %(number)s is opened.") % {"number": created.number})
                return redirect(created)
        keep_chosen_files(form)  # issue 21 §11: the files chosen survive the error
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
