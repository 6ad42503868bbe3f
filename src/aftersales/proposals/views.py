"""Pages of hidden-danger reports (LOG-3) and proposals (LOG-3/LOG-4): the lists (a customer's contact sees their
own, never a draft), staff write drafts, add options and send; the customer confirms or rejects a report, chooses an
option or declines a proposal, in the portal or through the mailed link; staff record the chosen option's follow-up.

Views stay thin: a form parses, a verb decides. A DomainError is a form message (422 for htmx); an illegal step or a
stale version a conflict message (409 for htmx). Every object is reached through `visible()` (selectors)."""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import DetailView

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, is_staff_member, visible
from aftersales.core.views import ScopedListView, ScopedMixin
from aftersales.core.verb_forms import add_error, done, error_status, run_verb
from aftersales.customers.models import Project

from . import links, selectors, services
from .filters import HazardFilter, ProposalFilter
from .forms import (
    ChooseForm,
    HazardForm,
    OptionForm,
    ProposalForm,
    RejectForm,
    RemoveOptionForm,
    SignForm,
    StepForm,
    StepUpdateForm,
    VersionForm,
)
from .models import AnsweredVia, HazardReport, HazardState, Proposal, ProposalState

VIEW_HAZARD = "proposals.view_hazardreport"
VIEW_PROPOSAL = "proposals.view_proposal"
MANAGE = "proposals.manage_proposals"
ANSWER = "proposals.answer_proposals"


def own_customer(user, row) -> bool:
    return bool(user.customer_id) and user.customer_id == row.customer_id


# ------------------------------------------------------------------------------------------------ lists

class CustomerAwareList(ScopedListView):
    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id:
            filterset.filters.pop("customer", None)  # their own only
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_customer"] = bool(self.request.user.customer_id)
        return context


class HazardList(CustomerAwareList):
    model = HazardReport
    permission_required = VIEW_HAZARD
    filterset_class = HazardFilter
    template_name = "proposals/hazard_list.html"
    sort_fields = {"number": "pk", "created": "created_at", "state": "state"}
    default_sort = "-created_at"

    def base_queryset(self):
        return selectors.hazard_list(self.request.user)


class ProposalList(CustomerAwareList):
    model = Proposal
    permission_required = VIEW_PROPOSAL
    filterset_class = ProposalFilter
    template_name = "proposals/proposal_list.html"
    sort_fields = {"number": "pk", "created": "created_at", "state": "state"}
    default_sort = "-created_at"

    def base_queryset(self):
        return selectors.proposal_list(self.request.user)


# ------------------------------------------------------------------------------------------------ creating

class CreateView(ScopedMixin, View):
    """Write a draft of a project: without `?project=` the page asks which project first (the form's choices are
    the project's devices, requests and rounds)."""

    permission_required = MANAGE
    form_class = None
    title = ""
    verb = None

    def project(self):
        pk = row_id(self.request.GET.get("project", "") or self.request.POST.get("project", ""))
        if pk is None:
            return None
        return get_visible_or_404(Project.objects.select_related("customer"), self.request.user, pk=pk)

    def projects(self):
        return visible(Project.objects.select_related("customer"), self.request.user).order_by("name", "pk")[:500]

    def get(self, request):
        project = self.project()
        form = self.form_class(user=request.user, project=project) if project else None
        return self.render(project, form)

    def post(self, request):
        project = self.project()
        if project is None:
            return self.render(None, None)
        form = self.form_class(request.POST, user=request.user, project=project)
        created = []
        status = run_verb(form, lambda data: created.append(self.verb(by=request.user, project=project, **data)))
        if status is None:
            messages.success(request, _("%(number)s saved as a draft.") % {"number": created[0].number})
            return done(request, created[0].get_absolute_url())
        return self.render(project, form, status=error_status(request, status))

    def render(self, project, form, status=200):
        return render(self.request, "proposals/create.html", {
            "project": project, "form": form, "form_title": self.title, "projects": self.projects() if not project
            else [], "action_url": self.request.path}, status=status)


class HazardCreate(CreateView):
    model = HazardReport
    form_class = HazardForm
    title = gettext_lazy("New hidden-danger report")

    @staticmethod
    def verb(**kwargs):
        return services.create_hazard_report(**kwargs)


class ProposalCreate(CreateView):
    model = Proposal
    form_class = ProposalForm
    title = gettext_lazy("New proposal")

    def get(self, request):
        project = self.project()
        initial = {}
        report = row_id(request.GET.get("hazard_report", ""))
        if project and report is not None:
            initial = {"hazard_report": report, "kind": "solution"}
        form = ProposalForm(user=request.user, project=project, initial=initial) if project else None
        return self.render(project, form)

    @staticmethod
    def verb(**kwargs):
        return services.create_proposal(**kwargs)


# ------------------------------------------------------------------------------------------------ details

class HazardDetail(ScopedMixin, DetailView):
    model = HazardReport
    permission_required = VIEW_HAZARD
    template_name = "proposals/hazard_detail.html"

    def get_object(self, queryset=None):
        return selectors.hazard_page(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report, user = self.object, self.request.user
        context.update({
            "is_customer": bool(user.customer_id), "is_staff": is_staff_member(user),
            "actions": actions_for(HAZARD_ACTIONS, report, user),
            "proposals": [p for p in report.proposals.all() if p.state != ProposalState.DRAFT or is_staff_member(user)],
            "can_propose": user.has_perm(MANAGE),
        })
        return context


class ProposalDetail(ScopedMixin, DetailView):
    model = Proposal
    permission_required = VIEW_PROPOSAL
    template_name = "proposals/proposal_detail.html"

    def get_object(self, queryset=None):
        return selectors.proposal_page(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        proposal, user = self.object, self.request.user
        can_manage = user.has_perm(MANAGE) and is_staff_member(user)
        context.update({
            "is_customer": bool(user.customer_id), "is_staff": is_staff_member(user),
            "options": list(proposal.options.all()), "steps": list(proposal.steps.all()),
            "actions": actions_for(PROPOSAL_ACTIONS, proposal, user),
            "can_edit_options": can_manage and proposal.state == ProposalState.DRAFT,
            "can_follow_up": can_manage and proposal.state == ProposalState.CHOSEN,
            "step_form": StepForm(initial={"version": proposal.version}),
            "step_states": StepUpdateForm.base_fields["state"].choices,
            "today": clock.today(),
        })
        return context


def actions_for(actions, row, user) -> list[dict]:
    return [{"name": view.name, "title": view.title, "button_class": view.button_class,
             "url": reverse(f"proposals:{view.name}", args=[row.pk])}
            for view in actions if view.shown_in_list and view.allowed(row, user) and view.available(row)]


# ------------------------------------------------------------------------------------------------ verbs

class RowAction(ScopedMixin, View):
    """One verb on one report or proposal. GET shows its form, POST runs it; a POST the state does not allow is
    refused by the verb (409)."""

    name = ""
    title = ""
    form_class = VersionForm
    permission_required = MANAGE
    states = ()
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"
    success_message = ""
    template_name = "proposals/action.html"
    customer_only = False
    shown_in_list = True

    @classmethod
    def available(cls, row) -> bool:
        return row.state in cls.states

    @classmethod
    def allowed(cls, row, user) -> bool:
        if not user.has_perm(cls.permission_required):
            return False
        return own_customer(user, row) if cls.customer_only else is_staff_member(user)

    def get_object(self):
        raise NotImplementedError

    def row(self):
        return self.get_object()

    def make_form(self, row, data=None):
        return self.form_class(data, initial={"version": row.version})

    def get(self, request, pk):
        row = self.row()
        return self.render(row, self.make_form(row))

    def post(self, request, pk):
        row = self.row()
        form = self.make_form(row, request.POST)
        status = run_verb(form, lambda data: self.perform(row, data))
        if status is None:
            if self.success_message:
                messages.success(request, self.success_message)
            return done(request, self.success_url(row))
        if status == 409 and "version" in form.fields and not request.htmx:
            row = self.get_object()
            form.data = form.data.copy()
            form.data["version"] = row.version
        return self.render(row, form, status=error_status(request, status))

    def success_url(self, row):
        return row.get_absolute_url()

    def render(self, row, form, status=200):
        return render(self.request, self.template_name, {
            "object": row, "form": form, "action": self,
            # a contact answers, staff write: the other side's page says so, and the verb refuses a POST
            "available": self.available(row) and self.allowed(row, self.request.user),
            "action_url": reverse(f"proposals:{self.name}", args=[row.pk]), **self.extra_context(row)}, status=status)

    def extra_context(self, row) -> dict:
        return {}

    def perform(self, row, data):
        raise NotImplementedError


class HazardAction(RowAction):
    model = HazardReport

    def get_object(self):
        return selectors.hazard_page(self.request.user, self.kwargs["pk"])

    def extra_context(self, row):
        return {"report": row, "kind": "hazard"}


class HazardEdit(HazardAction):
    name, title = "hazard_edit", gettext_lazy("Change the report")
    states = (HazardState.DRAFT, HazardState.REJECTED)
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The report is saved.")

    def make_form(self, row, data=None):
        initial = {name: getattr(row, name) for name in ("title", "risk", "found_where", "description", "consequence",
                                                         "recommendation", "service_request", "inspection_round")}
        initial.update(version=row.version, devices=list(row.devices.all()))
        return HazardForm(data, user=self.request.user, project=row.project, report=row, initial=initial)

    def perform(self, row, data):
        services.edit_hazard_report(report=row, by=self.request.user, **data)


class HazardSend(HazardAction):
    name, title = "hazard_send", gettext_lazy("Send for written confirmation")
    states = (HazardState.DRAFT, HazardState.REJECTED)
    submit_label = gettext_lazy("Send to the customer")
    button_class = "btn-success"
    success_message = gettext_lazy("The report is sent; the customer's contacts are asked to confirm it in writing.")

    def perform(self, row, data):
        services.send_hazard_report(report=row, by=self.request.user, **data)


class HazardConfirm(HazardAction):
    name, title = "hazard_confirm", gettext_lazy("Confirm the report in writing")
    form_class = SignForm
    permission_required = ANSWER
    customer_only = True
    states = (HazardState.AWAITING,)
    submit_label = gettext_lazy("Confirm in writing")
    button_class = "btn-success"
    success_message = gettext_lazy("Thank you. Your written confirmation is recorded.")

    def make_form(self, row, data=None):
        return self.form_class(data, initial={"version": row.version, "name": self.request.user.display_name})

    def perform(self, row, data):
        services.confirm_hazard_report(report=row, by=self.request.user, via=AnsweredVia.PORTAL, **data)


class HazardReject(HazardConfirm):
    name, title = "hazard_reject", gettext_lazy("Reject the report")
    form_class = RejectForm
    submit_label = gettext_lazy("Reject the report")
    button_class = "btn-outline-danger"
    success_message = gettext_lazy("Your rejection is recorded; we will revise the report.")

    def perform(self, row, data):
        services.reject_hazard_report(report=row, by=self.request.user, via=AnsweredVia.PORTAL, **data)


HAZARD_ACTIONS = [HazardConfirm, HazardReject, HazardSend, HazardEdit]


class ProposalAction(RowAction):
    model = Proposal

    def get_object(self):
        return selectors.proposal_page(self.request.user, self.kwargs["pk"])

    def extra_context(self, row):
        return {"proposal": row, "kind": "proposal", "options": list(row.options.all())}


class ProposalEdit(ProposalAction):
    name, title = "proposal_edit", gettext_lazy("Change the proposal")
    states = (ProposalState.DRAFT,)
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The proposal is saved.")

    def make_form(self, row, data=None):
        initial = {name: getattr(row, name) for name in ("kind", "title", "background", "hazard_report",
                                                         "service_request")}
        initial["version"] = row.version
        return ProposalForm(data, user=self.request.user, project=row.project, proposal=row, initial=initial)

    def perform(self, row, data):
        services.edit_proposal(proposal=row, by=self.request.user, **data)


class OptionAdd(ProposalAction):
    name, title = "option_add", gettext_lazy("Add an option")
    form_class = OptionForm
    states = (ProposalState.DRAFT,)
    submit_label = gettext_lazy("Add the option")
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The option is added.")

    def perform(self, row, data):
        services.add_option(proposal=row, by=self.request.user, **data)


@method_decorator(require_POST, name="dispatch")  # a button on the proposal's page: 405 before the login
class OptionRemove(ProposalAction):
    name, title = "option_remove", gettext_lazy("Remove an option")
    form_class = RemoveOptionForm
    states = (ProposalState.DRAFT,)
    shown_in_list = False

    def perform(self, row, data):
        services.remove_option(proposal=row, by=self.request.user, **data)


class ProposalSend(ProposalAction):
    name, title = "proposal_send", gettext_lazy("Send to the customer")
    states = (ProposalState.DRAFT,)
    submit_label = gettext_lazy("Send to the customer")
    button_class = "btn-success"
    success_message = gettext_lazy("The proposal is sent; its options can no longer change.")

    def perform(self, row, data):
        services.send_proposal(proposal=row, by=self.request.user, **data)


class ProposalChoose(ProposalAction):
    name, title = "proposal_choose", gettext_lazy("Choose an option")
    permission_required = ANSWER
    customer_only = True
    states = (ProposalState.SENT,)
    submit_label = gettext_lazy("Confirm my choice in writing")
    button_class = "btn-success"
    success_message = gettext_lazy("Thank you. Your choice is recorded.")

    def make_form(self, row, data=None):
        return ChooseForm(data, options=row.options.all(),
                          initial={"version": row.version, "name": self.request.user.display_name})

    def perform(self, row, data):
        services.choose_option(proposal=row, by=self.request.user, via=AnsweredVia.PORTAL, **data)


class ProposalDecline(ProposalChoose):
    name, title = "proposal_decline", gettext_lazy("Decline the proposal")
    submit_label = gettext_lazy("Decline the proposal")
    button_class = "btn-outline-danger"
    success_message = gettext_lazy("Your answer is recorded.")

    def make_form(self, row, data=None):
        return RejectForm(data, initial={"version": row.version, "name": self.request.user.display_name})

    def perform(self, row, data):
        services.decline_proposal(proposal=row, by=self.request.user, via=AnsweredVia.PORTAL, **data)


class StepAdd(ProposalAction):
    name, title = "step_add", gettext_lazy("Add a follow-up step")
    form_class = StepForm
    states = (ProposalState.CHOSEN,)
    submit_label = gettext_lazy("Add the step")
    button_class = "btn-outline-primary"

    def perform(self, row, data):
        services.add_step(proposal=row, by=self.request.user, **data)


@method_decorator(require_POST, name="dispatch")  # a form on the proposal's page
class StepUpdate(ProposalAction):
    name, title = "step_update", gettext_lazy("Update a follow-up step")
    form_class = StepUpdateForm
    states = (ProposalState.CHOSEN,)
    shown_in_list = False

    def perform(self, row, data):
        step = row.steps.filter(pk=data.pop("step")).first()
        if step is None:
            raise StaleObject()
        services.update_step(step=step, by=self.request.user, **data)


PROPOSAL_ACTIONS = [ProposalChoose, ProposalDecline, ProposalSend, OptionAdd, ProposalEdit, StepAdd, OptionRemove,
                    StepUpdate]


# ------------------------------------------------------------------------------------------------ mailed links

class ByLink(View):
    """The signed, expiring, single-use link from the mail. No login needed: the token is the key. A bad link answers
    404, an expired or used one 410, one opened as another customer's contact 403; each shows why and offers nothing
    to submit."""

    template_name = ""
    find = None

    def row(self, token):
        return type(self).find(token, self.request.user)

    def get(self, request, token):
        try:
            row = self.row(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        return self.render(row, self.forms(row))

    def post(self, request, token):
        try:
            row = self.row(token)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        user = request.user
        by = user if user.is_authenticated and user.customer_id == row.customer_id else None
        answer = request.POST.get("answer", "")
        forms = self.forms(row, request.POST, answer)
        form = forms.get(answer)
        if form is None:
            return self.render(row, forms, status=422 if request.htmx else 200)
        if form.is_valid():
            try:
                self.perform(row, answer, by, form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                add_error(form, error)
            else:
                return render(request, self.template_name, {"answered": answer, "object": row})
        return self.render(row, forms, status=422 if request.htmx else 200)

    def render(self, row, forms, status=200):
        return render(self.request, self.template_name, {"object": row, "forms": forms, "link": True,
                                                          **self.extra(row)}, status=status)

    def extra(self, row):
        return {}


class HazardByLink(ByLink):
    template_name = "proposals/hazard_link.html"
    find = staticmethod(links.hazard_for_token)

    def forms(self, row, data=None, answer=None):
        initial = {"version": row.version}
        return {"confirm": SignForm(data if answer == "confirm" else None, initial=initial, prefix="confirm"),
                "reject": RejectForm(data if answer == "reject" else None, initial=initial, prefix="reject")}

    def extra(self, row):
        return {"report": row}

    def perform(self, row, answer, by, data):
        data.pop("version")  # the token's version is the one the customer saw
        verb = services.confirm_hazard_report if answer == "confirm" else services.reject_hazard_report
        verb(report=row, version=row.version, via=AnsweredVia.LINK, by=by, **data)


class ProposalByLink(ByLink):
    template_name = "proposals/proposal_link.html"
    find = staticmethod(links.proposal_for_token)

    def forms(self, row, data=None, answer=None):
        initial = {"version": row.version}
        return {"choose": ChooseForm(data if answer == "choose" else None, options=row.options.all(), initial=initial,
                                     prefix="choose"),
                "decline": RejectForm(data if answer == "decline" else None, initial=initial, prefix="decline")}

    def extra(self, row):
        return {"proposal": row, "options": list(row.options.all())}

    def perform(self, row, answer, by, data):
        data.pop("version")
        if answer == "choose":
            services.choose_option(proposal=row, version=row.version, via=AnsweredVia.LINK, by=by, **data)
        else:
            services.decline_proposal(proposal=row, version=row.version, via=AnsweredVia.LINK, by=by, **data)
