from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from aftersales.core.scoping import get_visible_or_404
from aftersales.core.views import ScopedCreateView, ScopedDetailView, ScopedListView, ScopedMixin, ScopedUpdateView

from . import services
from .filters import CustomerFilter, ProjectFilter
from .forms import ContactForm, CustomerForm, DeadlineExtensionForm, MilestoneForm, ProjectForm
from .models import MILESTONE_ORDER, Customer, Milestone, Project


class CustomerList(ScopedListView):
    model = Customer
    permission_required = "customers.view_customer"
    filterset_class = CustomerFilter
    sort_fields = {"name": "name", "branch": "branch__name", "created": "created_at"}
    default_sort = "name"

    def base_queryset(self):
        return Customer.objects.select_related("branch")


class CustomerDetail(ScopedDetailView):
    model = Customer
    permission_required = "customers.view_customer"

    def base_queryset(self):
        return Customer.objects.select_related("branch")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["projects"] = self.object.projects.select_related("branch").order_by("name")
        context["contacts"] = self.object.contacts.order_by("full_name", "username")
        return context


class CustomerCreate(ScopedCreateView):
    model = Customer
    form_class = CustomerForm
    permission_required = "customers.add_customer"
    extra_context = {"form_title": gettext_lazy("New customer")}


class CustomerUpdate(ScopedUpdateView):
    model = Customer
    form_class = CustomerForm
    permission_required = "customers.change_customer"


class ContactCreate(ScopedMixin, View):
    model = Customer
    permission_required = "customers.manage_contacts"

    def dispatch_customer(self):
        return get_visible_or_404(Customer.objects.all(), self.request.user, pk=self.kwargs["pk"])

    def get(self, request, pk):
        customer = self.dispatch_customer()
        return render(request, "core/form.html", {"form": ContactForm(customer=customer), "form_title": _("New contact of %(customer)s") % {"customer": customer}})

    def post(self, request, pk):
        customer = self.dispatch_customer()
        form = ContactForm(request.POST, customer=customer)
        if form.is_valid():
            with transaction.atomic():
                form.save()
            messages.success(request, _("Contact added. They can now log in."))
            return redirect(customer)
        return render(request, "core/form.html", {"form": form, "form_title": _("New contact of %(customer)s") % {"customer": customer}})


class ProjectList(ScopedListView):
    model = Project
    permission_required = "customers.view_project"
    filterset_class = ProjectFilter
    sort_fields = {"name": "name", "contract": "contract_number", "customer": "customer__name", "accepted": "accepted_on"}

    def base_queryset(self):
        return Project.objects.select_related("customer", "branch")


class ProjectDetail(ScopedDetailView):
    model = Project
    permission_required = "customers.view_project"

    def base_queryset(self):
        return Project.objects.select_related("customer", "branch")

    def get_context_data(self, **kwargs):
        from aftersales.assets.selectors import project_device_summary

        context = super().get_context_data(**kwargs)
        milestones = sorted(
            self.object.milestones.prefetch_related("extensions__recorded_by"),
            key=lambda m: MILESTONE_ORDER.index(m.kind),
        )
        context["milestones"] = milestones
        context["device_summary"] = project_device_summary(self.object)
        return context


class ProjectCreate(ScopedCreateView):
    model = Project
    form_class = ProjectForm
    permission_required = "customers.add_project"
    extra_context = {"form_title": gettext_lazy("New project")}

    def get_initial(self):
        customer_id = self.request.GET.get("customer")
        return {"customer": customer_id} if customer_id and customer_id.isdigit() else {}


class ProjectUpdate(ScopedUpdateView):
    model = Project
    form_class = ProjectForm
    permission_required = "customers.change_project"

    def save_form(self, form):
        return services.save_project(project=form.save(commit=False))


class MilestoneCreate(ScopedMixin, View):
    """Add a milestone to a project."""

    model = Project
    permission_required = "customers.add_milestone"

    def _render(self, form, project):
        return render(self.request, "core/form.html", {"form": form, "form_title": _("New milestone for %(project)s") % {"project": project.name}})

    def get(self, request, pk):
        project = get_visible_or_404(Project.objects.all(), request.user, pk=pk)
        return self._render(MilestoneForm(user=request.user), project)

    def post(self, request, pk):
        project = get_visible_or_404(Project.objects.all(), request.user, pk=pk)
        form = MilestoneForm(request.POST, user=request.user, instance=Milestone(project=project))
        if form.is_valid():
            services.save_milestone(milestone=form.save(commit=False))
            return redirect(project)
        return self._render(form, project)


class MilestoneUpdate(ScopedUpdateView):
    model = Milestone
    form_class = MilestoneForm
    permission_required = "customers.change_milestone"

    def base_queryset(self):
        return Milestone.objects.select_related("project")

    def save_form(self, form):
        return services.save_milestone(milestone=form.save(commit=False))

    def get_success_url(self):
        return self.object.project.get_absolute_url()


class ExtensionCreate(ScopedMixin, View):
    """CUS-2: record an owner-caused delay (工期顺延)."""

    model = Milestone
    permission_required = "customers.add_deadlineextension"

    def _render(self, form, milestone):
        return render(self.request, "core/form.html", {"form": form, "form_title": _("Extend the deadline of %(milestone)s") % {"milestone": milestone}})

    def get(self, request, pk):
        milestone = get_visible_or_404(Milestone.objects.select_related("project"), request.user, pk=pk)
        return self._render(DeadlineExtensionForm(user=request.user), milestone)

    def post(self, request, pk):
        milestone = get_visible_or_404(Milestone.objects.select_related("project"), request.user, pk=pk)
        form = DeadlineExtensionForm(request.POST, user=request.user)
        if form.is_valid():
            services.extend_deadline(milestone=milestone, by=request.user, **form.cleaned_data)
            messages.success(request, _("Deadline extended."))
            return redirect(milestone.project)
        return self._render(form, milestone)
