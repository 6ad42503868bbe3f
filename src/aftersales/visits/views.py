"""Pages of return visits (VIS-1) and the system operation survey (VIS-2): the visits (overdue ones marked), a visit
with its follow-ups, one page per verb, the follow-ups, the schedules, the surveys with their results per project and
month, and the survey's no-account link.

Thin: a form parses, a verb decides. A DomainError is a form message; an illegal step or a stale version is shown as
a conflict (409 for htmx). Every object is reached through `visible()`; another customer's is a 404."""

from django.contrib import messages
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.scoping import get_visible_or_404, is_staff_member
from aftersales.core.views import ScopedListView, ScopedMixin

from . import links, selectors, services
from .filters import FollowUpFilter, ScheduleFilter, SurveyFilter, VisitFilter
from .forms import (
    FILL,
    AddFollowUpForm,
    CancelVisitForm,
    CompleteFollowUpForm,
    CreateSurveyForm,
    FollowUpLines,
    PlanVisitForm,
    RecordVisitForm,
    ReplanVisitForm,
    ScheduleForm,
    SurveyForm,
)
from .models import (
    AnsweredVia,
    FollowUp,
    FollowUpState,
    ReturnVisit,
    Survey,
    SurveyState,
    VisitSchedule,
    VisitState,
)

VIEW_VISIT = "visits.view_returnvisit"


def add_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def conflict_status(request, error: DomainError) -> int:
    """htmx swaps a 409 body (base.html's htmx-config); a plain form post shows the page with its message."""
    return error.status if request.htmx else 200


def render_form(request, form, *, title, back, intro="", about=None, status=200, template="visits/form.html",
                **extra):
    return render(request, template, {"form": form, "form_title": title, "back": back, "intro": intro,
                                      "about": about, **extra}, status=status)


# ------------------------------------------------------------------------------------------------ visits

class VisitList(ScopedListView):
    """VIS-1: the visits of the user's scope (a customer's user: their own, read-only); planned ones first, by due
    date, the overdue marked."""

    model = ReturnVisit
    permission_required = VIEW_VISIT
    filterset_class = VisitFilter
    template_name = "visits/visit_list.html"
    sort_fields = {"due": "due_on", "project": "project__name", "visited": "visited_at", "state": "state"}

    def base_queryset(self):
        return ReturnVisit.objects.select_related("project", "customer", "owner")

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.current_sort():
            return queryset
        planned_first = Case(When(state=VisitState.PLANNED, then=Value(0)), default=Value(1),
                             output_field=IntegerField())
        return queryset.order_by(planned_first, Case(When(state=VisitState.PLANNED, then="due_on")).asc(),
                                 "-due_on", "-pk")

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id:
            for name in ("customer", "owner"):
                filterset.filters.pop(name, None)
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = clock.today()
        context["today"] = today
        context["counts"] = self.get_queryset().order_by().aggregate(
            planned=Count("pk", filter=Q(state=VisitState.PLANNED)),
            overdue=Count("pk", filter=Q(state=VisitState.PLANNED, due_on__lt=today)))
        for visit in context["object_list"]:
            visit.overdue = visit.is_overdue(today)
        return context


class VisitDetail(ScopedMixin, DetailView):
    model = ReturnVisit
    permission_required = VIEW_VISIT
    template_name = "visits/visit_detail.html"

    def get_object(self, queryset=None):
        try:
            return selectors.visit_page(self.request.user, self.kwargs["pk"])
        except ReturnVisit.DoesNotExist:
            raise Http404 from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today, visit = clock.today(), self.object
        follow_ups = list(visit.follow_ups.all())
        for follow_up in follow_ups:
            follow_up.overdue = follow_up.is_overdue(today)
        context.update({"today": today, "overdue": visit.is_overdue(today), "follow_ups": follow_ups,
                        "surveys": list(visit.surveys.all()), "staff": is_staff_member(self.request.user),
                        "planned": visit.state == VisitState.PLANNED})
        return context


class VisitCreate(ScopedMixin, View):
    model = ReturnVisit
    permission_required = "visits.plan_visit"

    def title(self):
        return _("Plan a return visit")

    def get(self, request):
        initial = {"due_on": clock.today(), "owner": request.user.pk if is_staff_member(request.user) else None}
        if request.GET.get("project", "").isdigit():
            initial["project"] = request.GET["project"]
        return render_form(request, PlanVisitForm(user=request.user, initial=initial), title=self.title(),
                           back=reverse("visits:visit_list"))

    def post(self, request):
        form = PlanVisitForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                visit = services.plan_visit(by=request.user, **form.cleaned_data)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Return visit %(number)s planned.") % {"number": visit.number})
                return redirect(visit)
        return render_form(request, form, title=self.title(), back=reverse("visits:visit_list"))


class VisitAction(ScopedMixin, View):
    """A verb on one visit: GET shows its form, POST runs it."""

    model = ReturnVisit
    template = "visits/form.html"

    def visit(self):
        return get_visible_or_404(ReturnVisit.objects.select_related("project", "owner"), self.request.user,
                                  pk=self.kwargs["pk"])

    def show(self, visit, form, status=200, **extra):
        return render_form(self.request, form, title=self.title(visit), back=visit.get_absolute_url(), about=visit,
                           intro=self.intro(visit), status=status, template=self.template, **extra)

    def intro(self, visit):
        return ""

    def refused(self, visit, error, form, **extra):
        messages.error(self.request, error.message)
        return self.show(visit, form, status=conflict_status(self.request, error), **extra)


class VisitRecord(VisitAction):
    """VIS-1: record the visit: the customer's needs, questions, our answers, and its follow-up actions."""

    permission_required = "visits.record_visit"
    template = "visits/record_form.html"

    def title(self, visit):
        return _("Record return visit %(number)s") % {"number": visit.number}

    def intro(self, visit):
        return _("Ask about the needs of the existing system and any questions; what needs doing later becomes a "
                 "follow-up action with an owner and a due date.")

    def get(self, request, pk):
        visit = self.visit()
        form = RecordVisitForm(initial={"version": visit.version, "method": visit.method})
        lines = FollowUpLines(prefix="follow_up", form_kwargs={"user": request.user},
                              initial=[{"owner": visit.owner_id, "due_on": clock.today()}])
        return self.show(visit, form, lines=lines, closed=visit.state != VisitState.PLANNED)

    def post(self, request, pk):
        visit = self.visit()
        form = RecordVisitForm(request.POST)
        lines = FollowUpLines(request.POST, prefix="follow_up", form_kwargs={"user": request.user})
        if form.is_valid() and lines.is_valid():
            follow_ups = [services.FollowUpLine(line["description"], line["owner"], line["due_on"])
                          for line in lines.cleaned_data if line.get("description")]
            try:
                services.record_visit(visit=visit, by=request.user, follow_ups=follow_ups, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                return self.refused(visit, error, form, lines=lines)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Return visit %(number)s recorded.") % {"number": visit.number})
                return redirect(visit)
        return self.show(visit, form, lines=lines)


class VisitReplan(VisitAction):
    permission_required = "visits.plan_visit"

    def title(self, visit):
        return _("Move return visit %(number)s") % {"number": visit.number}

    def get(self, request, pk):
        visit = self.visit()
        return self.show(visit, ReplanVisitForm(user=request.user, initial={
            "version": visit.version, "due_on": visit.due_on, "owner": visit.owner_id, "method": visit.method,
            "purpose": visit.purpose}))

    def post(self, request, pk):
        visit = self.visit()
        form = ReplanVisitForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.replan_visit(visit=visit, by=request.user, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                return self.refused(visit, error, form)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Return visit %(number)s moved.") % {"number": visit.number})
                return redirect(visit)
        return self.show(visit, form)


class VisitCancel(VisitAction):
    permission_required = "visits.plan_visit"

    def title(self, visit):
        return _("Cancel return visit %(number)s") % {"number": visit.number}

    def get(self, request, pk):
        visit = self.visit()
        return self.show(visit, CancelVisitForm(initial={"version": visit.version}))

    def post(self, request, pk):
        visit = self.visit()
        form = CancelVisitForm(request.POST)
        if form.is_valid():
            try:
                services.cancel_visit(visit=visit, by=request.user, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                return self.refused(visit, error, form)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Return visit %(number)s cancelled.") % {"number": visit.number})
                return redirect(visit)
        return self.show(visit, form)


class VisitAddFollowUp(VisitAction):
    permission_required = "visits.work_follow_up"

    def title(self, visit):
        return _("Follow-up action for %(number)s") % {"number": visit.number}

    def get(self, request, pk):
        visit = self.visit()
        return self.show(visit, AddFollowUpForm(user=request.user, initial={
            "owner": visit.owner_id or (request.user.pk if is_staff_member(request.user) else None),
            "due_on": clock.today()}))

    def post(self, request, pk):
        visit = self.visit()
        form = AddFollowUpForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.add_follow_up(visit=visit, by=request.user, **form.cleaned_data)
            except IllegalTransition as error:
                return self.refused(visit, error, form)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Follow-up action added."))
                return redirect(visit)
        return self.show(visit, form)


# ------------------------------------------------------------------------------------------------ follow-ups

class FollowUpList(ScopedListView):
    """Follow-up actions of visits and surveys; open ones first by due date, the overdue marked."""

    model = FollowUp
    permission_required = "visits.view_followup"
    filterset_class = FollowUpFilter
    template_name = "visits/followup_list.html"
    sort_fields = {"due": "due_on", "project": "project__name", "done": "done_at"}

    def base_queryset(self):
        return FollowUp.objects.select_related("project", "owner", "visit", "survey")

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.current_sort():
            return queryset
        open_first = Case(When(state=FollowUpState.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
        return queryset.order_by(open_first, "due_on", "pk")

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if self.request.user.customer_id:
            filterset.filters.pop("owner", None)
        return filterset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = clock.today()
        for follow_up in context["object_list"]:
            follow_up.overdue = follow_up.is_overdue(today)
        context["today"] = today
        return context


class FollowUpComplete(ScopedMixin, View):
    model = FollowUp
    permission_required = "visits.work_follow_up"

    def follow_up(self):
        return get_visible_or_404(FollowUp.objects.select_related("project", "owner", "visit", "survey"),
                                  self.request.user, pk=self.kwargs["pk"])

    def show(self, follow_up, form, status=200):
        return render_form(self.request, form, title=_("Follow-up action done"), back=follow_up.get_absolute_url(),
                           about=follow_up, status=status, template="visits/followup_form.html",
                           closed=follow_up.state != FollowUpState.OPEN)

    def get(self, request, pk):
        follow_up = self.follow_up()
        return self.show(follow_up, CompleteFollowUpForm(initial={"version": follow_up.version}))

    def post(self, request, pk):
        follow_up = self.follow_up()
        form = CompleteFollowUpForm(request.POST)
        if form.is_valid():
            try:
                services.complete_follow_up(follow_up=follow_up, by=request.user, **form.cleaned_data)
            except (IllegalTransition, StaleObject) as error:
                messages.error(request, error.message)
                return self.show(follow_up, form, status=conflict_status(request, error))
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Follow-up action done."))
                return redirect(follow_up.get_absolute_url())
        return self.show(follow_up, form)


# ------------------------------------------------------------------------------------------------ schedules

class ScheduleList(ScopedListView):
    model = VisitSchedule
    permission_required = "visits.view_visitschedule"
    filterset_class = ScheduleFilter
    template_name = "visits/schedule_list.html"
    sort_fields = {"project": "project__name", "cadence": "cadence"}

    def base_queryset(self):
        return VisitSchedule.objects.select_related("project", "customer", "owner")


class ScheduleCreate(ScopedMixin, View):
    model = VisitSchedule
    permission_required = "visits.plan_visit"

    def title(self):
        return _("New visit schedule")

    def get(self, request):
        initial = {"starts_on": clock.today()}
        if request.GET.get("project", "").isdigit():
            initial["project"] = request.GET["project"]
        return render_form(request, ScheduleForm(user=request.user, initial=initial), title=self.title(),
                           back=reverse("visits:schedule_list"),
                           intro=_("Every month or quarter a return visit is planned for the project; a visit that "
                                   "was due and not done shows as overdue."))

    def post(self, request):
        form = ScheduleForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.create_schedule(by=request.user, **form.verb_arguments())
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Visit schedule saved; this period's visit is planned."))
                return redirect("visits:schedule_list")
        return render_form(request, form, title=self.title(), back=reverse("visits:schedule_list"))


class ScheduleUpdate(ScopedMixin, View):
    model = VisitSchedule
    permission_required = "visits.plan_visit"

    def schedule(self):
        return get_visible_or_404(VisitSchedule.objects.select_related("project", "owner"), self.request.user,
                                  pk=self.kwargs["pk"])

    def title(self, schedule):
        return _("Visit schedule of %(project)s") % {"project": schedule.project.name}

    def get(self, request, pk):
        schedule = self.schedule()
        initial = {name: getattr(schedule, name) for name in services.SCHEDULE_FIELDS} | {
            "owner": schedule.owner_id, "version": schedule.version}
        return render_form(request, ScheduleForm(user=request.user, schedule=schedule, initial=initial),
                           title=self.title(schedule), back=reverse("visits:schedule_list"), about=schedule)

    def post(self, request, pk):
        schedule = self.schedule()
        form = ScheduleForm(request.POST, user=request.user, schedule=schedule)
        if form.is_valid():
            try:
                services.update_schedule(schedule=schedule, by=request.user, version=form.cleaned_data["version"],
                                         **form.verb_arguments())
            except StaleObject as error:
                messages.error(request, error.message)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Visit schedule saved."))
                return redirect("visits:schedule_list")
        return render_form(request, form, title=self.title(schedule), back=reverse("visits:schedule_list"),
                           about=schedule)


# ------------------------------------------------------------------------------------------------ surveys

class SurveyList(ScopedListView):
    model = Survey
    permission_required = "visits.view_survey"
    filterset_class = SurveyFilter
    template_name = "visits/survey_list.html"
    sort_fields = {"month": "period", "project": "project__name", "answered": "answered_at",
                   "satisfaction": "satisfaction"}
    default_sort = "-period"

    def base_queryset(self):
        return Survey.objects.select_related("project", "sent_to")


class SurveyCreate(ScopedMixin, View):
    model = Survey
    permission_required = "visits.send_survey"

    def title(self):
        return _("New system operation survey")

    def intro(self):
        return _("One survey per project and month. The link works without an account, once, for %(days)s days.") % {
            "days": links.VALID_FOR.days}

    def visit(self, value):
        if not str(value or "").isdigit():
            return None
        return get_visible_or_404(ReturnVisit.objects.select_related("project"), self.request.user, pk=value)

    def get(self, request):
        initial = {}
        visit = self.visit(request.GET.get("visit"))
        if visit is not None:
            initial.update(project=visit.project_id, period=visit.due_on.replace(day=1), how=FILL)
        elif request.GET.get("project", "").isdigit():
            initial["project"] = request.GET["project"]
        return render_form(request, CreateSurveyForm(user=request.user, initial=initial), title=self.title(),
                           intro=self.intro(), back=reverse("visits:survey_list"), visit=visit)

    def post(self, request):
        form = CreateSurveyForm(request.POST, user=request.user)
        visit = self.visit(request.POST.get("visit"))
        if form.is_valid():
            data = form.cleaned_data
            fill = data["how"] == FILL
            try:
                survey = services.create_survey(by=request.user, project=data["project"], period=data["period"],
                                                visit=visit, send=not fill)
            except DomainError as error:
                add_error(form, error)
            else:
                if fill:
                    return redirect("visits:survey_fill", survey.pk)
                messages.success(request, _("The survey link was mailed to %(name)s.") % {"name": survey.sent_to})
                return redirect(survey)
        return render_form(request, form, title=self.title(), intro=self.intro(), back=reverse("visits:survey_list"),
                           visit=visit)


class SurveyDetail(ScopedMixin, DetailView):
    model = Survey
    permission_required = "visits.view_survey"
    template_name = "visits/survey_detail.html"

    def get_object(self, queryset=None):
        return get_visible_or_404(
            Survey.objects.select_related("project", "visit", "sent_to", "answered_by", "created_by")
            .prefetch_related("follow_ups__owner"), self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        survey, today = self.object, clock.today()
        follow_ups = list(survey.follow_ups.all())
        for follow_up in follow_ups:
            follow_up.overdue = follow_up.is_overdue(today)
        context.update({"follow_ups": follow_ups, "staff": is_staff_member(self.request.user),
                        "rows": survey_rows(survey), "link_expired": survey.link_expires_at is not None
                        and survey.link_expires_at < clock.now()})
        return context


def survey_rows(survey) -> list[tuple]:
    """The seed's form as printed: (label, value) in its order."""
    form = SurveyForm(survey=survey, staff=True)
    values = {"surveyed_at": survey.surveyed_at, "abnormal": survey.abnormal,
              "satisfaction": survey.get_satisfaction_display() if survey.satisfaction else None}
    return [(form.fields[name].label, values.get(name, getattr(survey, name)), name) for name in form.fields]


class SurveyFill(ScopedMixin, View):
    """VIS-2: staff fill the survey in with the customer (during a visit); a customer's contact answers in the portal.
    The mailed link stops working once it is answered."""

    model = Survey
    permission_required = "visits.answer_survey"

    def survey(self):
        return get_visible_or_404(Survey.objects.select_related("project", "visit"), self.request.user,
                                  pk=self.kwargs["pk"])

    def show(self, survey, form, status=200):
        return render(self.request, "visits/survey_fill.html", {
            "survey": survey, "form": form, "answered": survey.state != SurveyState.PENDING}, status=status)

    def get(self, request, pk):
        survey = self.survey()
        return self.show(survey, SurveyForm(survey=survey, staff=is_staff_member(request.user)))

    def post(self, request, pk):
        survey = self.survey()
        staff = is_staff_member(request.user)
        form = SurveyForm(request.POST, survey=survey, staff=staff)
        version = request.POST.get("version", "")
        if form.is_valid():
            try:
                services.answer_survey(survey=survey, by=request.user, version=int(version) if version.isdigit() else None,
                                       via=AnsweredVia.STAFF if staff else AnsweredVia.PORTAL, **form.answers())
            except (IllegalTransition, StaleObject) as error:
                messages.error(request, error.message)
                return self.show(survey, form, status=conflict_status(request, error))
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Thank you: the survey is saved."))
                return redirect(survey)
        return self.show(survey, form)


class SurveyResend(ScopedMixin, View):
    model = Survey
    permission_required = "visits.send_survey"

    def survey(self):
        return get_visible_or_404(Survey.objects.select_related("project", "sent_to"), self.request.user,
                                  pk=self.kwargs["pk"])

    def get(self, request, pk):
        survey = self.survey()
        return render(request, "visits/survey_resend.html", {"survey": survey})

    def post(self, request, pk):
        survey = self.survey()
        version = request.POST.get("version", "")
        try:
            services.resend_survey_link(survey=survey, by=request.user,
                                        version=int(version) if version.isdigit() else None)
        except DomainError as error:
            messages.error(request, error.message)
            return render(request, "visits/survey_resend.html", {"survey": survey},
                          status=conflict_status(request, error))
        survey.refresh_from_db()
        messages.success(request, _("A new link was mailed to %(name)s; the one before no longer works.")
                         % {"name": survey.sent_to})
        return redirect(survey)


class SurveyResults(ScopedListView):
    """VIS-2: the survey results per project and month, aggregated by the database, with totals per month."""

    model = Survey
    permission_required = "visits.view_survey"
    filterset_class = SurveyFilter
    template_name = "visits/survey_results.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        surveys = self.object_list  # scoped and filtered; grouped here, so the filters act on surveys, not on groups
        kwargs["object_list"] = selectors.survey_results(surveys)
        context = super().get_context_data(**kwargs)
        context["totals"] = list(selectors.monthly_totals(surveys)[:12])
        return context


# ------------------------------------------------------------------------------------------------ the link

class SurveyByLink(View):
    """VIS-2: the survey's no-account link (signed, expiring, single use). A tampered link is a 404, an expired or
    used one a 410, another customer's contact a 403; each says why and offers nothing to submit."""

    template_name = "visits/survey_link.html"

    def get(self, request, token):
        try:
            survey = links.survey_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        return render(request, self.template_name, {"survey": survey, "form": SurveyForm(survey=survey, staff=False)})

    def post(self, request, token):
        try:
            survey = links.survey_for_token(token, request.user)
        except DomainError as error:
            return render(request, self.template_name, {"link_error": error.message}, status=error.status)
        form = SurveyForm(request.POST, survey=survey, staff=False)
        if form.is_valid():
            try:
                services.answer_survey_by_link(token=token, user=request.user, **form.answers())
            except (links.LinkNotValid, links.LinkExpired, links.LinkUsed, links.LinkOfAnotherCustomer) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=error.status)
            except (IllegalTransition, StaleObject) as error:
                return render(request, self.template_name, {"link_error": error.message}, status=409)
            except DomainError as error:
                add_error(form, error)
            else:
                return render(request, self.template_name, {"answered": True, "survey": survey})
        return render(request, self.template_name, {"survey": survey, "form": form})
