"""CUS-4 pages: the contracts of a branch (staff) or of a customer (its users, read-only), a contract with its
periods, and the verbs: create, edit, renew, give notice, correct a period. Thin: forms in, services do the work."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from aftersales.core.clock import today
from aftersales.core.errors import DomainError
from aftersales.core.scoping import get_visible_or_404, is_staff_member
from aftersales.core.views import ScopedDetailView, ScopedListView, ScopedMixin

from . import selectors, services
from .coverage import next_period, notice_deadline
from .filters import ContractFilter
from .forms import PERIOD_FIELDS, CancelForm, ContractForm, PeriodForm
from .models import CoveragePeriod, Renewal, ServiceContract


def contract_queryset():
    return ServiceContract.objects.select_related("project__customer")


class ContractList(ScopedListView):
    model = ServiceContract
    permission_required = "contracts.view_servicecontract"
    filterset_class = ContractFilter
    template_name = "contracts/contract_list.html"
    sort_fields = {"number": "number", "customer": "project__customer__name", "project": "project__name",
                   "ends": "latest_ends_on", "signed": "signed_on"}

    def base_queryset(self):
        return selectors.with_terms(contract_queryset(), on=today())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        on = today()
        for contract in context["object_list"]:
            contract.state = selectors.state_of(contract, on)
        context["today"] = on
        return context


class ContractDetail(ScopedDetailView):
    model = ServiceContract
    template_name = "contracts/contract_detail.html"
    permission_required = "contracts.view_servicecontract"

    def base_queryset(self):
        return selectors.with_terms(contract_queryset().select_related("cancelled_by", "created_by"), on=today())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract, on = self.object, today()
        periods = selectors.contract_periods(contract)
        latest = max(periods, key=lambda p: (p.ends_on, p.pk)) if periods else None
        for period in periods:
            period.is_current = period.starts_on <= on <= period.ends_on
            period.notice_by = notice_deadline(period.ends_on, contract.notice_days)
        context.update({
            "today": on, "state": selectors.state_of(contract, on), "periods": periods, "latest": latest,
            "devices": contract.devices.select_related("category").order_by("name", "pk")[:50]
            if not contract.whole_project else None,
            "can_renew": latest is not None and not contract.cancelled,
            "tacit": contract.renewal == Renewal.TACIT,
            "notice_by": notice_deadline(latest.ends_on, contract.notice_days) if latest else None,
            "staff": is_staff_member(self.request.user),
        })
        return context


def render_form(request, form, *, title, obj=None, intro="", status=200):
    return render(request, "contracts/form.html", {"form": form, "form_title": title, "object": obj, "intro": intro},
                  status=status)


class ContractCreate(ScopedMixin, View):
    model = ServiceContract
    permission_required = "contracts.add_servicecontract"
    title = gettext_lazy("New service contract")

    def get(self, request):
        initial = {}
        project_id = request.GET.get("project", "")
        if project_id.isdigit():
            initial["project"] = project_id
        return render_form(request, ContractForm(user=request.user, initial=initial), title=self.title)

    def post(self, request):
        form = ContractForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                contract = services.create_contract(by=request.user, **form.verb_arguments())
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Contract %(number)s saved.") % {"number": contract.number})
                return redirect(contract)
        return render_form(request, form, title=self.title, status=422 if request.htmx else 200)


class ContractAction(ScopedMixin, View):
    """A verb on one contract: GET shows its form, POST runs it."""

    model = ServiceContract

    def contract(self):
        return get_visible_or_404(contract_queryset(), self.request.user, pk=self.kwargs["pk"])


class ContractUpdate(ContractAction):
    permission_required = "contracts.change_servicecontract"

    def get(self, request, pk):
        contract = self.contract()
        return render_form(request, ContractForm(instance=contract, user=request.user),
                           title=_("Edit contract %(number)s") % {"number": contract.number}, obj=contract)

    def post(self, request, pk):
        contract = self.contract()
        form = ContractForm(request.POST, instance=contract, user=request.user)
        if form.is_valid():
            arguments = form.verb_arguments()
            try:
                services.update_contract(contract=contract, by=request.user, **arguments)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Contract %(number)s saved.") % {"number": arguments["number"]})
                return redirect(contract)
        return render_form(request, form, title=_("Edit contract %(number)s") % {"number": contract.number},
                           obj=contract, status=422 if request.htmx else 200)


class ContractRenew(ContractAction):
    """A renewal is a new period: by default the same length, from the day after the latest period ends."""

    permission_required = "contracts.add_coverageperiod"

    def title(self, contract):
        return _("Renew contract %(number)s") % {"number": contract.number}

    def intro(self, contract):
        return _("A renewal adds a new period; the periods before it stay as they were.")

    def get(self, request, pk):
        contract = self.contract()
        latest = contract.periods.order_by("-ends_on", "-pk").first()
        initial = {"version": contract.version}
        if latest is not None:
            initial["starts_on"], initial["ends_on"] = next_period(latest.starts_on, latest.ends_on)
            initial.update({name: getattr(latest, name) for name in PERIOD_FIELDS[2:]})
        return render_form(request, PeriodForm(initial=initial), title=self.title(contract), obj=contract,
                           intro=self.intro(contract))

    def post(self, request, pk):
        contract = self.contract()
        form = PeriodForm(request.POST)
        if form.is_valid():
            try:
                period = services.renew(contract=contract, by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Renewed: %(start)s – %(end)s.") % {
                    "start": period.starts_on.isoformat(), "end": period.ends_on.isoformat()})
                return redirect(contract)
        return render_form(request, form, title=self.title(contract), obj=contract, intro=self.intro(contract),
                           status=422 if request.htmx else 200)


class ContractCancel(ContractAction):
    """Notice given: the contract is not renewed any more; its periods keep covering until they end."""

    permission_required = "contracts.change_servicecontract"

    def title(self, contract):
        return _("Notice on contract %(number)s: not renewed") % {"number": contract.number}

    def get(self, request, pk):
        contract = self.contract()
        return render_form(request, CancelForm(initial={"version": contract.version}), title=self.title(contract),
                           obj=contract, intro=_("The current period keeps covering until it ends; the contract is "
                                                 "not renewed after it, tacitly or expressly."))

    def post(self, request, pk):
        contract = self.contract()
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                services.cancel(contract=contract, by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Notice recorded: the contract will not be renewed."))
                return redirect(contract)
        return render_form(request, form, title=self.title(contract), obj=contract,
                           status=422 if request.htmx else 200)


class PeriodCorrect(ScopedMixin, View):
    """Correct a period entered wrongly. To extend coverage, renew: a renewal is a new period."""

    model = CoveragePeriod
    permission_required = "contracts.change_coverageperiod"

    def period(self):
        return get_visible_or_404(CoveragePeriod.objects.select_related("contract", "renews"), self.request.user,
                                  pk=self.kwargs["pk"])

    def title(self, period):
        return _("Correct the period %(period)s of %(number)s") % {"period": period, "number": period.contract.number}

    def intro(self):
        return _("Only to correct what was entered wrongly. To extend the coverage, renew the contract: a renewal is "
                 "a new period.")

    def get(self, request, pk):
        period = self.period()
        initial = {name: getattr(period, name) for name in PERIOD_FIELDS} | {"version": period.version}
        return render_form(request, PeriodForm(initial=initial), title=self.title(period), obj=period.contract,
                           intro=self.intro())

    def post(self, request, pk):
        period = self.period()
        form = PeriodForm(request.POST)
        if form.is_valid():
            try:
                services.correct_period(period=period, by=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Period corrected."))
                return redirect(period.contract)
        return render_form(request, form, title=self.title(period), obj=period.contract, intro=self.intro(),
                           status=422 if request.htmx else 200)
