"""Pages of repair cases (REP-1, issue 22 §2-§4): the board by state for the desk and managers (a customer's user sees
their own repairs and loans there), the case page with a button for each step possible now, one page per step (its
form alone, for a phone or for htmx), opening a case, the loans out and the RMA shipments in flight.

Views stay thin: a form parses, a verb decides. A DomainError is a form message (422 for htmx); an illegal step or a
stale version a conflict message (409 for htmx). Every object is reached through `visible()`."""

from django.contrib import messages
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView

from aftersales.assets.models import Device
from aftersales.billing.models import ChargeSheet
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.core.views import ScopedListView, ScopedMixin
from aftersales.service.models import ServiceRequest
from aftersales.service.views import add_domain_error, error_status

from . import selectors, services, transitions
from .filters import BoardFilter, LoanFilter
from .forms import (
    LendForm,
    NoteForm,
    OpenCaseForm,
    PlanReplacementForm,
    ReasonForm,
    ReplaceForm,
    ReturnFromVendorForm,
    ReturnLoanForm,
    RmaForm,
    SendToVendorForm,
    WhatWasDoneForm,
    WhyForm,
)
from .models import OPEN_STATES, Loan, RepairCase, RepairState, VendorRma

VIEW_CASE = "repairs.view_repaircase"


def done(http_request, url: str) -> HttpResponse:
    """After a successful POST: htmx follows HX-Redirect (the whole page shows the new state), a form redirects."""
    if http_request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# ------------------------------------------------------------------------------------------------ the board

class Board(ScopedListView):
    """Staff: every case of their scope by state, with counts per state and the overdue RMAs and loans marked.
    A customer's user: their own repairs and the units lent to them, read-only."""

    model = RepairCase
    permission_required = VIEW_CASE
    filterset_class = BoardFilter
    paginate_by = 50
    sort_fields = {"number": "pk", "opened": "opened_at", "state": "state", "updated": "updated_at"}

    def base_queryset(self):
        return selectors.with_overdue_flags(
            RepairCase.objects.select_related("device", "customer", "service_request", "replaced_by"), clock.today())

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id:
            filterset.filters.pop("customer", None)  # their own only
        return filterset

    def get_template_names(self):
        return ["repairs/my_repairs.html" if self.request.user.customer_id else "repairs/board.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, today = self.request.user, clock.today()
        counts = selectors.state_counts(user)
        context.update({
            "today": today,
            "state_counts": [(state, label, counts[state]) for state, label in RepairState.choices],
            "open_count": sum(counts[state] for state in OPEN_STATES),
            "overdue": selectors.overdue_counts(user, today=today),
            "current_state": self.request.GET.get("state", ""),
        })
        if user.customer_id:
            context["loans"] = list(selectors.loans_for(user).filter(returned_at__isnull=True).order_by("due_back_on", "pk"))
        return context


# ------------------------------------------------------------------------------------------------ the case page

class CaseDetail(ScopedMixin, DetailView):
    model = RepairCase
    permission_required = VIEW_CASE
    template_name = "repairs/case_detail.html"

    def get_object(self, queryset=None):
        try:
            return selectors.case_page(self.request.user, self.kwargs["pk"])
        except RepairCase.DoesNotExist:
            raise Http404 from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_context(self.request, self.object))
        return context


def page_context(http_request, case) -> dict:
    user, today = http_request.user, clock.today()
    steps = transitions.steps_for(user, case)
    panels = [view.panel(http_request, case) for view in STEP_VIEWS
              for transition, refused in steps if view.name == transition.name and refused is None]
    blocked = [(transition, refused) for transition, refused in steps if refused is not None]
    for view in (Lend, UpdateRma):
        if user.has_perm(view.permission_required) and view.available(case):
            panels.append(view.panel(http_request, case))
    loans = list(case.loans.all())
    for loan in loans:
        loan.overdue = loan.is_overdue(today)
    return {
        "today": today, "is_customer": bool(user.customer_id), "actions": panels, "blocked": blocked,
        "loans": loans, "rmas": list(case.rmas.all()), "replacements": list(case.replacements.all()),
        "part_movements": list(case.part_movements.all()),
        "sheet": ChargeSheet.objects.filter(repair_case=case).prefetch_related("lines").first(),
        "not_customer": not user.customer_id,
        "steps": list(case.steps.all()), "can_return_loans": user.has_perm("repairs.lend_unit"),
        "possible": transitions.possible_now(case.state),
    }


# ------------------------------------------------------------------------------------------------ one step, one page

class CaseAction(ScopedMixin, View):
    """One verb on one case. `name` is the URL's name (repairs:<name>), the panel's id and, for a step of the state
    machine, its entry in transitions.TRANSITIONS, which gives the permission. The view does not check the state:
    a POST the state does not allow is refused by the verb (409)."""

    model = RepairCase
    name = ""
    title = ""
    form_class = NoteForm
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"
    success_message = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name in transitions.TRANSITIONS:  # a misspelt step fails at start-up, not on the first click
            cls.permission_required = transitions.permission_of(cls.name)
            cls.title = cls.__dict__.get("title") or transitions.TRANSITIONS[cls.name].label

    @classmethod
    def initial(cls, case) -> dict:
        return {"version": case.version}

    @classmethod
    def form_kwargs(cls, user) -> dict:
        """What a form needs besides its data (the user, for choices scoped to them)."""
        return {}

    @classmethod
    def make_form(cls, case, data=None, *, user=None):
        # ids unique on the case page, which shows several of these forms (each with a version, most with a note)
        return cls.form_class(data, initial=cls.initial(case), auto_id=f"{cls.name}_%s", **cls.form_kwargs(user))

    @classmethod
    def available(cls, case) -> bool:
        refused = transitions.refusal(cls.name, case) if cls.name in transitions.TRANSITIONS else None
        return refused is None

    @classmethod
    def panel(cls, http_request, case, form=None) -> dict:
        return {"name": cls.name, "title": cls.title, "url": reverse(f"repairs:{cls.name}", args=[case.pk]),
                "form": form or cls.make_form(case, user=http_request.user), "submit_label": cls.submit_label,
                "button_class": cls.button_class}

    def get_object(self):
        return get_visible_or_404(RepairCase.objects.select_related("device", "customer"), self.request.user,
                                  pk=self.kwargs["pk"])

    def get(self, request, pk):
        case = self.get_object()
        return self.render(case, self.make_form(case, user=request.user))

    def post(self, request, pk):
        case = self.get_object()
        form = self.make_form(case, request.POST, user=request.user)
        status = 422
        if form.is_valid():
            try:
                self.perform(case, form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                status = error.status if error.status in (409,) else 422
                add_domain_error(form, error)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return done(request, case.get_absolute_url())
        if status == 409 and "version" in form.fields and not request.htmx:
            case = self.get_object()  # the page shows the case as it is now; sending again is a deliberate choice
            form.data = form.data.copy()
            form.data["version"] = case.version
        return self.render(case, form, status=error_status(request, status))

    def render(self, case, form, status=200):
        panel = self.panel(self.request, case, form)
        template = "repairs/_action.html" if self.request.htmx else "repairs/action_page.html"
        return render(self.request, template, {"object": case, "action": panel, "available": self.available(case)},
                      status=status)

    def perform(self, case, data):
        raise NotImplementedError


def _by(view):
    return view.request.user


class RepairOnSite(CaseAction):
    name = "repair_on_site"
    success_message = gettext_lazy("The device is being repaired on site.")

    def perform(self, case, data):
        services.repair_on_site(case=case, by=_by(self), **data)


class FinishRepair(CaseAction):
    name = "finish_repair"
    form_class = WhatWasDoneForm
    button_class = "btn-success"
    success_message = gettext_lazy("The device is back in service.")

    def perform(self, case, data):
        services.finish_repair(case=case, by=_by(self), **data)


class PlanReplacement(CaseAction):
    name = "plan_replacement"
    form_class = PlanReplacementForm
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The case waits for the replacement unit.")

    def perform(self, case, data):
        services.plan_replacement(case=case, by=_by(self), **data)


class Replace(CaseAction):
    name = "replace"
    form_class = ReplaceForm
    button_class = "btn-success"
    success_message = gettext_lazy("The replacement unit is recorded; the device's label now opens the new unit.")

    @classmethod
    def initial(cls, case):
        return {"version": case.version, "source": case.replacement_source or None}

    @classmethod
    def form_kwargs(cls, user):
        return {"user": user}

    def perform(self, case, data):
        services.replace(case=case, by=_by(self), **data)


class SendToVendor(CaseAction):
    name = "send_to_vendor"
    form_class = SendToVendorForm
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The shipment to the manufacturer is recorded.")

    @classmethod
    def initial(cls, case):
        return {"version": case.version, "sent_on": clock.today(), "manufacturer": case.device.manufacturer_id}

    def perform(self, case, data):
        services.send_to_vendor(case=case, by=_by(self), **data)


class ReturnFromVendor(CaseAction):
    name = "return_from_vendor"
    form_class = ReturnFromVendorForm
    success_message = gettext_lazy("The unit is back from the manufacturer.")

    @classmethod
    def initial(cls, case):
        return {"version": case.version, "returned_on": clock.today()}

    def perform(self, case, data):
        services.return_from_vendor(case=case, by=_by(self), **data)


class Reinstall(CaseAction):
    name = "reinstall"
    button_class = "btn-success"
    success_message = gettext_lazy("The unit is installed again.")

    def perform(self, case, data):
        services.reinstall(case=case, by=_by(self), **data)


class Rediagnose(CaseAction):
    name = "rediagnose"
    form_class = WhyForm
    button_class = "btn-outline-secondary"
    success_message = gettext_lazy("The case is back in diagnosis.")

    def perform(self, case, data):
        services.rediagnose(case=case, by=_by(self), **data)


class Close(CaseAction):
    name = "close"
    button_class = "btn-success"
    success_message = gettext_lazy("The repair case is closed.")

    def perform(self, case, data):
        services.close(case=case, by=_by(self), **data)


class Cancel(CaseAction):
    name = "cancel"
    form_class = ReasonForm
    button_class = "btn-outline-danger"
    success_message = gettext_lazy("The repair case is cancelled.")

    def perform(self, case, data):
        services.cancel(case=case, by=_by(self), **data)


class Lend(CaseAction):
    """§4: lend a spare unit while the device is away (the SRQ-5 contingency)."""

    name, title = "lend", gettext_lazy("Lend a spare unit")
    form_class = LendForm
    permission_required = "repairs.lend_unit"
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The loan is recorded.")

    @classmethod
    def available(cls, case):
        return case.is_open

    def perform(self, case, data):
        services.lend_unit(case=case, by=_by(self), **data)


class UpdateRma(CaseAction):
    """The RMA form: correct the shipment in flight (RMA number, carrier, tracking number, expected return)."""

    name, title = "rma", gettext_lazy("RMA shipment details")
    form_class = RmaForm
    permission_required = "repairs.ship_rma"
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The RMA details are saved.")

    @classmethod
    def available(cls, case):
        return case.state == RepairState.AT_VENDOR

    @classmethod
    def initial(cls, case):
        rma = services.open_rma(case)
        if rma is None:
            return {"version": case.version}
        return {"version": case.version, "rma_number": rma.rma_number, "manufacturer": rma.manufacturer_id,
                "vendor_name": rma.vendor_name, "carrier": rma.carrier, "tracking_number": rma.tracking_number,
                "expected_back_on": rma.expected_back_on}

    def perform(self, case, data):
        services.update_rma(case=case, by=_by(self), **data)


# In the order the case page shows the panels of the steps possible now.
STEP_VIEWS = [RepairOnSite, FinishRepair, SendToVendor, ReturnFromVendor, Reinstall, PlanReplacement, Replace, Close,
              Rediagnose, Cancel]
ACTION_VIEWS = [*STEP_VIEWS, Lend, UpdateRma]
assert {view.name for view in STEP_VIEWS} == set(transitions.TRANSITIONS)


# ------------------------------------------------------------------------------------------------ opening a case

class CaseCreate(ScopedMixin, View):
    """Open a case from a device (?device=), from a service request (?request=: one of its project's devices), or by
    a device's serial number."""

    model = RepairCase
    permission_required = "repairs.work_repair"

    def context(self):
        user, params = self.request.user, self.request.POST or self.request.GET
        device = service_request = None
        if (pk := row_id(params.get("device"))) is not None:
            device = get_visible_or_404(Device.objects.select_related("project"), user, pk=pk)
        if (pk := row_id(params.get("request"))) is not None:
            service_request = get_visible_or_404(ServiceRequest.objects.all(), user, pk=pk)
        return device, service_request

    def make_form(self, device, service_request, data=None):
        devices = selectors.devices_for_case(self.request.user, service_request=service_request, device=device)
        initial = {"fault": service_request.description if service_request else ""}
        if device is not None:
            initial["device"] = device.pk
        elif service_request is not None:
            first = service_request.devices.order_by("name", "pk").first()
            initial["device"] = first.pk if first else None
        return OpenCaseForm(data, initial=initial, devices=devices,
                            by_serial=device is None and service_request is None)

    def get(self, request):
        device, service_request = self.context()
        return self.render(self.make_form(device, service_request), device, service_request)

    def post(self, request):
        device, service_request = self.context()
        form = self.make_form(device, service_request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            chosen = data.get("device") or self.device_by_serial(form)
            if chosen is not None:
                try:
                    case = services.open_case(by=request.user, device=chosen, fault=data["fault"],
                                              service_request=service_request, finding_ref=data["finding_ref"])
                except DomainError as error:
                    add_domain_error(form, error)
                else:
                    messages.success(request, _("Repair case %(number)s is opened.") % {"number": case.number})
                    return redirect(case)
        return self.render(form, device, service_request, status=error_status(request, 422))

    def device_by_serial(self, form):
        serial = form.cleaned_data["serial"].strip()
        found = list(visible(Device.objects.select_related("project"), self.request.user)
                     .filter(serial_number__iexact=serial)[:2])
        if len(found) != 1:
            form.add_error("serial", _("No device with this serial number.") if not found
                           else _("Several devices have this serial number: open the case from the device's page."))
            return None
        return found[0]

    def render(self, form, device, service_request, status=200):
        return render(self.request, "repairs/case_form.html", {
            "form": form, "device": device, "service_request": service_request,
            "open_case": selectors.open_case_of(device) if device is not None else None,
        }, status=status)


# ------------------------------------------------------------------------------------------------ loans and RMAs

class LoanList(ScopedListView):
    """§4: the units out on loan (the desk's list; a customer's user sees theirs), overdue ones first and marked."""

    model = Loan
    permission_required = "repairs.view_loan"
    filterset_class = LoanFilter
    paginate_by = 50
    sort_fields = {"due": "due_back_on", "lent": "lent_at"}
    template_name = "repairs/loan_list.html"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if not self.request.GET:  # the list opens on the units out now
            kwargs["data"] = {"open": "true"}
        return kwargs

    def base_queryset(self):
        return Loan.objects.select_related("case__device", "case__customer", "lent_by")

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.current_sort():
            queryset = queryset.order_by("returned_at", "due_back_on", "pk")  # out first, the most overdue first
        return queryset

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "today": clock.today(),
                "is_customer": bool(self.request.user.customer_id),
                "can_return_loans": self.request.user.has_perm("repairs.lend_unit")}


class ReturnLoan(ScopedMixin, View):
    """The lent unit is back (the loan's own version: the case may have moved on meanwhile)."""

    model = Loan
    permission_required = "repairs.lend_unit"

    def get_object(self):
        return get_visible_or_404(Loan.objects.select_related("case__device"), self.request.user, pk=self.kwargs["pk"])

    def get(self, request, pk):
        loan = self.get_object()
        return self.render(loan, ReturnLoanForm(initial={"version": loan.version}))

    def post(self, request, pk):
        loan = self.get_object()
        form = ReturnLoanForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                services.return_loan(loan=loan, by=request.user, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The unit %(serial)s is back.") % {"serial": loan.unit_serial})
                back = reverse("repairs:loan_list") if self.back_to_list() else loan.case.get_absolute_url()
                return done(request, back)
        return self.render(self.get_object(), form, status=error_status(request, status))

    def render(self, loan, form, status=200):
        panel = {"name": "return_loan", "title": _("Take the unit back"), "form": form,
                 "url": reverse("repairs:return_loan", args=[loan.pk]), "submit_label": _("The unit is back"),
                 "button_class": "btn-primary"}
        template = "repairs/_action.html" if self.request.htmx else "repairs/action_page.html"
        return render(self.request, template, {"object": loan.case, "action": panel, "loan": loan,
                                               "available": loan.returned_at is None,
                                               "next": "loans" if self.back_to_list() else ""}, status=status)

    def back_to_list(self) -> bool:
        return (self.request.POST.get("next") or self.request.GET.get("next")) == "loans"


class RmaList(ScopedMixin, ListView):
    """Logistics: the units at their manufacturers (RMA shipments in flight), the overdue ones marked; `?all=1` shows
    the returned ones too."""

    model = VendorRma
    permission_required = "repairs.view_vendorrma"
    paginate_by = 50
    template_name = "repairs/rma_list.html"

    def show_all(self) -> bool:
        return self.request.GET.get("all") == "1"

    def base_queryset(self):
        return VendorRma.objects.select_related("case__device", "case__customer", "manufacturer")

    def get_queryset(self):
        rmas = super().get_queryset()
        if not self.show_all():
            rmas = rmas.filter(returned_on__isnull=True)
        return rmas.order_by(F("returned_on").desc(nulls_first=True), F("expected_back_on").asc(nulls_last=True), "pk")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "today": clock.today(), "show_all": self.show_all(),
                "querystring": "all=1" if self.show_all() else ""}
