"""Pages of inspections (issue 23 §1, §3): the rounds list with filters, the round page where its engineer records
answers (one small form per item, usable on a phone), one page per move (its form alone), plans, checklists with their
versions, and the completion figures.

Views stay thin: a form parses, a verb decides. A DomainError is a form message (422 for htmx); an illegal move or a
stale version a conflict message (409 for htmx). Every round is reached through selectors.rounds_for (SEC-1: an
engineer sees the rounds assigned to them, a customer their own projects')."""

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView

from aftersales.accounts.models import User
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.core.views import ScopedListView, ScopedMixin
from aftersales.customers.models import Project

from . import selectors, services, transitions
from .filters import PlanFilter, RoundFilter
from .forms import (
    AnswerForm,
    ChecklistForm,
    CompleteForm,
    EditPlanForm,
    ItemFormSet,
    MissedReasonForm,
    OverrideForm,
    PlanForm,
    ReassignForm,
    ReviseChecklistForm,
    SkipDeviceForm,
    StartForm,
    items_of,
)
from .models import PENDING_STATES, Answer, ChecklistItem, ChecklistTemplate, InspectionPlan, InspectionRound, RoundState

VIEW_ROUND, DO, OVERSEE = "inspections.view_inspectionround", "inspections.do_rounds", "inspections.oversee_rounds"
VIEW_PLAN, MANAGE_PLANS = "inspections.view_inspectionplan", "inspections.manage_plans"
VIEW_CHECKLIST, MANAGE_CHECKLISTS = "inspections.view_checklisttemplate", "inspections.manage_checklists"


def add_domain_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def status_for(http_request, status: int) -> int:
    """htmx swaps 409/422 bodies (base.html's htmx-config); a plain form post shows the page with its message."""
    return status if http_request.htmx else 200


def get_round_or_404(user, pk) -> InspectionRound:
    try:
        return selectors.rounds_for(user).select_related("plan", "project", "customer", "engineer").get(pk=pk)
    except InspectionRound.DoesNotExist:
        raise Http404 from None


# ------------------------------------------------------------------------------------------------ rounds

class RoundList(ScopedListView):
    """Every round the user may see: pending ones first (soonest due first), then the rest (latest first)."""

    model = InspectionRound
    permission_required = VIEW_ROUND
    filterset_class = RoundFilter
    paginate_by = 50
    template_name = "inspections/round_list.html"
    sort_fields = {"due": "due_on", "state": "state"}

    def get_queryset(self):
        rounds = selectors.round_list(self.request.user)
        by_request = self.sorted_by_request(rounds)
        if by_request is not None:
            return by_request
        pending = Case(When(state__in=PENDING_STATES, then=Value(0)), default=Value(1), output_field=IntegerField())
        return rounds.annotate(pending_first=pending).order_by("pending_first", "due_on", "pk")

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id or selectors.only_assigned(self.request.user):
            filterset.filters.pop("engineer", None)
        filterset.filters.pop("plan", None)
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_customer"] = bool(self.request.user.customer_id)
        return context


class RoundDetail(ScopedMixin, DetailView):
    model = InspectionRound
    permission_required = VIEW_ROUND
    template_name = "inspections/round_detail.html"

    def get_object(self, queryset=None):
        try:
            return selectors.round_page(self.request.user, self.kwargs["pk"])
        except InspectionRound.DoesNotExist:
            raise Http404 from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(round_context(self.request, self.object))
        return context


def round_context(http_request, round_, *, failed_answer=None) -> dict:
    """What the round page shows: the moves this user may make now, and each device's items with the current answer
    and, for its engineer while recording, a form per item (the one sent back with an error keeps its input)."""
    user = http_request.user
    own = round_.engineer_id == user.pk and user.has_perm(DO)
    recording = own and (round_.state == RoundState.IN_PROGRESS
                         or (round_.state == RoundState.MISSED and round_.started_at is not None
                             and clock.today() <= round_.window_end))
    rows = selectors.sheet(round_)
    for row in rows:
        row["forms"] = []
        for item, answer in row["items"]:
            form = None
            if recording:
                if failed_answer is not None and failed_answer.item_obj.pk == item.pk \
                        and str(failed_answer.data.get(f"{failed_answer.prefix}-device")) == str(row["check"].device_id):
                    form = failed_answer
                else:
                    form = AnswerForm.fresh(row["check"], item)
            row["forms"].append((item, answer, form))
        row["skip_form"] = SkipDeviceForm(initial={"device": row["check"].device_id},
                                          auto_id=f"skip{row['check'].pk}_%s") if recording else None
    panels = [view.panel(http_request, round_) for view in ACTION_VIEWS if view.offered(user, round_)]
    return {"rows": rows, "recording": recording, "own": own, "actions": panels, "today": clock.today(),
            "is_customer": bool(user.customer_id), "events": list(round_.events.all()),
            "answer_url": reverse("inspections:answer", args=[round_.pk]),
            "skip_url": reverse("inspections:skip_device", args=[round_.pk]),
            "total_items": sum(len(row["items"]) for row in rows),
            "answered_items": sum(row["answered"] for row in rows),
            "findings": sum(row["findings"] for row in rows)}


class RoundAction(ScopedMixin, View):
    """One move on one round: its form alone on GET (a page for a phone), the verb on POST."""

    model = InspectionRound
    name = ""
    title = ""
    form_class = StartForm
    submit_label = gettext_lazy("Save")
    button_class = "btn-primary"
    success_message = ""
    states: tuple = ()
    own_round = False  # only the round's engineer

    @classmethod
    def offered(cls, user, round_) -> bool:
        if not user.has_perm(cls.permission_required) or round_.state not in cls.states:
            return False
        if cls.own_round and round_.engineer_id != user.pk:
            return False
        return cls.name not in transitions.TRANSITIONS or transitions.refusal(cls.name, round_) is None

    @classmethod
    def form_kwargs(cls, round_) -> dict:
        return {}

    @classmethod
    def make_form(cls, round_, data=None):
        return cls.form_class(data, initial={"version": round_.version}, auto_id=f"{cls.name}_%s",
                              **cls.form_kwargs(round_))

    @classmethod
    def panel(cls, http_request, round_, form=None) -> dict:
        return {"name": cls.name, "title": cls.title, "url": reverse(f"inspections:{cls.name}", args=[round_.pk]),
                "form": form or cls.make_form(round_), "submit_label": cls.submit_label,
                "button_class": cls.button_class}

    def get(self, request, pk):
        round_ = get_round_or_404(request.user, pk)
        return self.render(round_, self.make_form(round_))

    def post(self, request, pk):
        round_ = get_round_or_404(request.user, pk)
        form = self.make_form(round_, request.POST)
        status = 422
        if form.is_valid():
            try:
                self.perform(round_, form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                status = 409 if error.status == 409 else 403 if error.status == 403 else 422
                add_domain_error(form, error)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return redirect(round_.get_absolute_url())
        if status == 409 and not request.htmx:
            round_ = get_round_or_404(request.user, pk)  # shown as it is now; sending again is a deliberate choice
            form.data = form.data.copy()
            form.data["version"] = round_.version
        return self.render(round_, form, status=status_for(request, status) if status != 403 else 403)

    def render(self, round_, form, status=200):
        return render(self.request, "inspections/action_page.html",
                      {"object": round_, "action": self.panel(self.request, round_, form),
                       "available": round_.state in self.states}, status=status)

    def perform(self, round_, data):
        raise NotImplementedError


class Start(RoundAction):
    name = "start"
    title = gettext_lazy("Start the round")
    permission_required = DO
    form_class = StartForm
    states = (RoundState.SCHEDULED,)
    own_round = True
    submit_label = gettext_lazy("Start now")
    success_message = gettext_lazy("The round has started: record each device's items.")

    def perform(self, round_, data):
        services.start_round(round=round_, by=self.request.user, **data)


class Complete(RoundAction):
    name = "complete"
    title = gettext_lazy("Complete the round")
    permission_required = DO
    form_class = CompleteForm
    states = (RoundState.IN_PROGRESS, RoundState.MISSED)
    own_round = True
    button_class = "btn-success"
    submit_label = gettext_lazy("Complete")
    success_message = gettext_lazy("The round is done.")

    def perform(self, round_, data):
        services.complete_round(round=round_, by=self.request.user, **data)


class OverrideApproval(RoundAction):
    name = "override_approval"
    title = gettext_lazy("Start without the customer's approval")
    permission_required = OVERSEE
    form_class = OverrideForm
    states = (RoundState.AWAITING_APPROVAL,)
    button_class = "btn-outline-danger"
    submit_label = gettext_lazy("Override the approval")
    success_message = gettext_lazy("The round may start; the override is recorded with its reason.")

    def perform(self, round_, data):
        services.override_approval(round=round_, by=self.request.user, **data)


class ExplainMissed(RoundAction):
    name = "explain_missed"
    title = gettext_lazy("Why the round was missed")
    permission_required = OVERSEE
    form_class = MissedReasonForm
    states = (RoundState.MISSED,)
    button_class = "btn-outline-secondary"
    success_message = gettext_lazy("The reason is recorded.")

    def perform(self, round_, data):
        services.explain_missed(round=round_, by=self.request.user, **data)


class Reassign(RoundAction):
    name = "reassign"
    title = gettext_lazy("Change the engineer")
    permission_required = OVERSEE
    form_class = ReassignForm
    states = tuple(PENDING_STATES)
    button_class = "btn-outline-primary"
    success_message = gettext_lazy("The round has a new engineer.")

    @classmethod
    def form_kwargs(cls, round_) -> dict:
        engineers = (User.objects.filter(branch_id=round_.branch_id, customer__isnull=True, is_active=True,
                                         groups__permissions__codename="do_rounds").distinct().order_by("username"))
        return {"engineers": engineers}

    def perform(self, round_, data):
        services.reassign_round(round=round_, by=self.request.user, **data)


ACTION_VIEWS = [Start, Complete, OverrideApproval, ExplainMissed, Reassign]


class RecordAnswer(ScopedMixin, View):
    """POST: one answer (its own client id: the same form sent twice is one answer). GET: the round page."""

    model = InspectionRound
    permission_required = DO

    def get(self, request, pk):
        return redirect_or_page(request, pk)

    def post(self, request, pk):
        round_ = get_round_or_404(request.user, pk)
        prefix = next((key.rsplit("-", 1)[0] for key in request.POST if key.endswith("-client_id")), None)
        item = None
        if prefix is not None and (item_id := row_id(request.POST.get(f"{prefix}-item"))) is not None:
            item = ChecklistItem.objects.filter(pk=item_id).first()
        if item is None:
            messages.error(request, _("The answer could not be read: reload the page and answer again."))
            return redirect(round_.get_absolute_url())
        form = AnswerForm(request.POST, request.FILES, item=item, prefix=prefix)
        status = 422
        if form.is_valid():
            try:
                answer, created = services.record_answer(round=round_, by=request.user, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                status = error.status if error.status in (403, 409) else 422
                add_domain_error(form, error)
            else:
                if answer.finding:
                    messages.warning(request, _("“%(item)s” is recorded as a finding.") % {"item": item.label})
                return redirect(f"{round_.get_absolute_url()}#device-{answer.device_check_id}")
        page = selectors.round_page(request.user, round_.pk)
        context = {"object": page, **round_context(request, page, failed_answer=form)}
        return render(request, "inspections/round_detail.html", context,
                      status=status_for(request, status) if status != 403 else 403)


def redirect_or_page(http_request, pk):
    try:
        page = selectors.round_page(http_request.user, pk)
    except InspectionRound.DoesNotExist:
        raise Http404 from None
    return render(http_request, "inspections/round_detail.html", {"object": page, **round_context(http_request, page)})


class SkipDevice(ScopedMixin, View):
    model = InspectionRound
    permission_required = DO

    def get(self, request, pk):
        return redirect_or_page(request, pk)

    def post(self, request, pk):
        round_ = get_round_or_404(request.user, pk)
        form = SkipDeviceForm(request.POST)
        if form.is_valid():
            try:
                services.skip_device(round=round_, by=request.user, device=form.cleaned_data["device"],
                                     reason=form.cleaned_data["reason"])
            except DomainError as error:
                messages.error(request, error.message)
        else:
            messages.error(request, _("Say why the device was not checked."))
        return redirect(round_.get_absolute_url())


class AnswerPhoto(ScopedMixin, View):
    """A photo of an answer, only through the scoped path (never a media URL)."""

    model = Answer
    permission_required = VIEW_ROUND

    def get(self, request, pk):
        try:
            answer = Answer.objects.get(pk=pk, round__in=selectors.rounds_for(request.user))
        except Answer.DoesNotExist:
            raise Http404 from None
        if not answer.photo:
            raise Http404
        try:
            handle = answer.photo.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise Http404 from None
        response = FileResponse(handle, content_type=answer.photo_type or "application/octet-stream")
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, max-age=0"
        return response


class Completion(ScopedMixin, View):
    model = InspectionRound
    permission_required = VIEW_ROUND

    def get(self, request):
        today = clock.today()
        try:
            year = int(request.GET.get("year") or today.year)
            month = int(request.GET["month"]) if request.GET.get("month") else None
        except ValueError:
            year, month = today.year, None
        if not 2000 <= year <= 2100 or (month is not None and not 1 <= month <= 12):
            year, month = today.year, None
        project = None
        if (pk := row_id(request.GET.get("project"))) is not None:
            project = visible(Project.objects.all(), request.user).filter(pk=pk).first()
        rows = selectors.completion(request.user, year=year, month=month, project=project)
        totals = {key: sum(row[key] for row in rows) for key in ("due", "done", "missed", "open", "overridden")}
        totals["rate"] = round(100 * totals["done"] / totals["due"]) if totals["due"] else None
        return render(request, "inspections/completion.html", {
            "rows": rows, "totals": totals, "year": year, "month": month, "project": project,
            "years": list(range(today.year - 3, today.year + 2)), "months": list(range(1, 13)),
            "projects": visible(Project.objects.all(), request.user).order_by("name")})


# ------------------------------------------------------------------------------------------------ plans

class PlanList(ScopedListView):
    model = InspectionPlan
    permission_required = VIEW_PLAN
    filterset_class = PlanFilter
    template_name = "inspections/plan_list.html"

    def get_queryset(self):
        return selectors.plans_for(self.request.user).order_by("-is_active", "project__name", "name", "pk")


class PlanDetail(ScopedMixin, DetailView):
    model = InspectionPlan
    permission_required = VIEW_PLAN
    template_name = "inspections/plan_detail.html"

    def get_object(self, queryset=None):
        return get_visible_or_404(InspectionPlan.objects.select_related("project", "customer", "branch")
                                  .prefetch_related("checklists__category", "engineers", "devices"),
                                  self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = clock.today()
        rounds = selectors.round_list(self.request.user).filter(plan=self.object)
        context["upcoming"] = list(rounds.filter(state__in=PENDING_STATES).order_by("due_on", "pk")[:12])
        context["recent"] = list(rounds.exclude(state__in=PENDING_STATES).order_by("-due_on", "-pk")[:12])
        context["today"] = today
        return context


def _plan_values(data: dict) -> dict:
    return {key: data[key] for key in ("name", "cadence", "starts_on", "ends_on", "anchor_day", "anchor_month",
                                       "selection", "needs_approval", "horizon_days") if key in data}


class PlanCreate(ScopedMixin, View):
    model = InspectionPlan
    permission_required = MANAGE_PLANS

    def get(self, request):
        initial = {"cadence": "monthly", "selection": "categories", "horizon_days": 90, "starts_on": clock.today()}
        if (pk := row_id(request.GET.get("project"))) is not None:
            initial["project"] = pk
        return self.render(PlanForm(initial=initial, user=request.user))

    def post(self, request):
        form = PlanForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.create_plan(by=request.user, project=data["project"], checklists=data["checklists"],
                                            engineers=data["engineers"], devices=data["devices"], **_plan_values(data))
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The plan is saved and its rounds are generated."))
                return redirect(plan.get_absolute_url())
        return self.render(form, status=status_for(request, 422))

    def render(self, form, status=200):
        return render(self.request, "inspections/plan_form.html", {"form": form, "title": _("New inspection plan")},
                      status=status)


class PlanEdit(ScopedMixin, View):
    model = InspectionPlan
    permission_required = MANAGE_PLANS

    def get_object(self):
        return get_visible_or_404(InspectionPlan.objects.select_related("project"), self.request.user,
                                  pk=self.kwargs["pk"])

    def get(self, request, pk):
        plan = self.get_object()
        initial = {field: getattr(plan, field) for field in ("name", "cadence", "starts_on", "ends_on", "anchor_day",
                                                              "anchor_month", "selection", "needs_approval",
                                                              "horizon_days", "is_active", "version")}
        initial.update(checklists=list(plan.checklists.all()), engineers=list(plan.engineers.all()),
                       devices=list(plan.devices.all()))
        return self.render(plan, EditPlanForm(initial=initial, user=request.user, plan=plan))

    def post(self, request, pk):
        plan = self.get_object()
        form = EditPlanForm(request.POST, user=request.user, plan=plan)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            values = _plan_values(data)
            values["anchor_day"] = values.get("anchor_day") or data["starts_on"].day
            if values.get("anchor_month") is None:
                values["anchor_month"] = (data["starts_on"].month - 1) % 3 if data["cadence"] == "quarterly" else 0
            try:
                services.update_plan(plan=plan, by=request.user, version=data["version"], is_active=data["is_active"],
                                     checklists=data["checklists"], engineers=data["engineers"],
                                     devices=data["devices"], **values)
            except StaleObject as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The plan is saved; its future rounds not started yet follow it."))
                return redirect(plan.get_absolute_url())
        return self.render(plan, form, status=status_for(request, status))

    def render(self, plan, form, status=200):
        return render(self.request, "inspections/plan_form.html",
                      {"form": form, "object": plan, "title": _("Edit the plan")}, status=status)


# ------------------------------------------------------------------------------------------------ checklists

class ChecklistList(ScopedMixin, ListView):
    model = ChecklistTemplate
    permission_required = VIEW_CHECKLIST
    template_name = "inspections/checklist_list.html"
    paginate_by = 100

    def get_queryset(self):
        return selectors.checklists().order_by("-is_active", "category__name", "name", "pk")


class ChecklistDetail(ScopedMixin, DetailView):
    model = ChecklistTemplate
    permission_required = VIEW_CHECKLIST
    template_name = "inspections/checklist_detail.html"

    def get_object(self, queryset=None):
        try:
            return selectors.checklists().get(pk=self.kwargs["pk"])
        except ChecklistTemplate.DoesNotExist:
            raise Http404 from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["versions"] = list(self.object.versions.select_related("created_by").prefetch_related("items")
                                   .order_by("-number"))
        return context


class ChecklistCreate(ScopedMixin, View):
    model = ChecklistTemplate
    permission_required = MANAGE_CHECKLISTS

    def get(self, request):
        return self.render(ChecklistForm(), ItemFormSet(prefix="items"))

    def post(self, request):
        form, items = ChecklistForm(request.POST), ItemFormSet(request.POST, prefix="items")
        if form.is_valid() and items.is_valid():
            try:
                checklist = services.create_checklist(by=request.user, items=items_of(items), **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                return redirect(checklist.get_absolute_url())
        return self.render(form, items, status=status_for(request, 422))

    def render(self, form, items, status=200):
        return render(self.request, "inspections/checklist_form.html",
                      {"form": form, "items": items, "title": _("New checklist")}, status=status)


class ChecklistRevise(ScopedMixin, View):
    model = ChecklistTemplate
    permission_required = MANAGE_CHECKLISTS

    def get_object(self):
        try:
            return selectors.checklists().get(pk=self.kwargs["pk"])
        except ChecklistTemplate.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk):
        checklist = self.get_object()
        rows = [{"kind": i.kind, "label": i.label, "unit": i.unit, "min_value": i.min_value, "max_value": i.max_value,
                 "evidence_required": i.evidence_required, "opens_request": i.opens_request}
                for i in (checklist.current.items.order_by("position") if checklist.current_id else [])]
        form = ReviseChecklistForm(initial={"version": checklist.version, "name": checklist.name,
                                            "is_active": checklist.is_active})
        return self.render(checklist, form, ItemFormSet(initial=rows, prefix="items"))

    def post(self, request, pk):
        checklist = self.get_object()
        form, items = ReviseChecklistForm(request.POST), ItemFormSet(request.POST, prefix="items")
        status = 422
        if form.is_valid() and items.is_valid():
            try:
                services.revise_checklist(checklist=checklist, by=request.user, items=items_of(items),
                                          **form.cleaned_data)
            except StaleObject as error:
                status = 409
                add_domain_error(form, error)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("A new version of the checklist is saved; rounds already started keep "
                                            "theirs."))
                return redirect(checklist.get_absolute_url())
        return self.render(checklist, form, items, status=status_for(request, status))

    def render(self, checklist, form, items, status=200):
        return render(self.request, "inspections/checklist_form.html",
                      {"form": form, "items": items, "object": checklist, "title": _("Revise the checklist")},
                      status=status)


class ChecklistDefaults(ScopedMixin, View):
    """Write the default checklists (cameras, NVRs, switches, servers, access control) of the categories with none."""

    model = ChecklistTemplate
    permission_required = MANAGE_CHECKLISTS

    def get(self, request):
        return render(request, "inspections/checklist_defaults.html", {})

    def post(self, request):
        created = services.ensure_default_checklists(by=request.user)
        messages.success(request, _("%(n)s default checklists created.") % {"n": len(created)})
        return redirect("inspections:checklist_list")
