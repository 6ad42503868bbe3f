"""Issue 21 §6: the configuration pages — calendars, the SLA policy of each project with a preview, and each branch's
escalation ladder — for administrators, and department managers for their own branch. Thin: a form parses, a verb of
service/config.py checks and writes in one transaction, the page shows the result (or the form's error)."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from aftersales.accounts.models import Branch
from aftersales.core import clock as wall_clock
from aftersales.core.errors import DomainError, StaleObject
from aftersales.core.plausible import plausible_year
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.customers.models import Project

from .. import config, policy_config
from ..forms_config import (
    DayForm, DeletePolicyForm, NewPolicyForm, PolicyForm, ProjectPolicyForm, StepForm, TargetsForm, YearForm,
)
from ..models import CalendarDay, EscalationRule, Priority, SlaPolicy, WorkCalendar
from .common import add_domain_error, done, error_status

VIEW_ALL = (config.VIEW_CALENDARS, config.VIEW_POLICIES, config.VIEW_LADDERS)


class ConfigPage(LoginRequiredMixin, PermissionRequiredMixin, TemplateView):
    """A configuration page: a read permission to see it, a change permission per write (checked in `post`)."""

    permission_required = VIEW_ALL
    change_permission = None

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {**super().get_context_data(**kwargs),
                "missing_years": config.missing_holiday_years(),
                "may_change_calendars": user.has_perm(config.CHANGE_CALENDARS),
                "may_change_policies": user.has_perm(config.CHANGE_POLICIES),
                "may_change_project_policy": user.has_perm(config.CHANGE_PROJECT_POLICY),
                "may_change_ladders": user.has_perm(config.CHANGE_LADDERS)}

    def require_change(self):
        if not self.request.user.has_perm(self.change_permission):
            raise PermissionDenied

    def with_errors(self, **forms):
        """The page again, with the forms that failed (200 for a form post, 422 for htmx)."""
        context = self.get_context_data(**forms)
        return render(self.request, self.template_name, context, status=error_status(self.request, 422))


def requested_year(http_request) -> int:
    raw = http_request.GET.get("year", "")
    year = int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 4 else wall_clock.today().year
    return year if plausible_year(year) else wall_clock.today().year


class ConfigHome(ConfigPage):
    template_name = "service/config/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        branches = visible(Branch.objects.order_by("name"), user)
        return {**super().get_context_data(**kwargs),
                "calendars": WorkCalendar.objects.order_by("name"),
                "policies": SlaPolicy.objects.select_related("calendar").order_by("name"),
                "ladders": [config.ladder(branch) for branch in branches[:50]]}


# ----------------------------------------------------------------------------------------------- calendars

class CalendarList(ConfigPage):
    """The calendars, the known years, and the import of a year of public holidays."""

    template_name = "service/config/calendar_list.html"
    change_permission = config.CHANGE_CALENDARS

    def get_context_data(self, **kwargs):
        from ..models import HolidayYear

        today = wall_clock.today()
        kwargs.setdefault("import_form", YearForm(initial={"year": today.year + 1}))
        known = list(HolidayYear.objects.order_by("-year"))
        return {**super().get_context_data(**kwargs),
                "calendars": WorkCalendar.objects.prefetch_related("policies").order_by("name"), "known_years": known,
                "last_bundled_year": config.last_bundled_year(), "this_year": today.year}

    def post(self, http_request):
        self.require_change()
        form = YearForm(http_request.POST)
        if form.is_valid():
            try:
                result = config.import_public_year(year=form.cleaned_data["year"], by=http_request.user)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(http_request, _(
                    "{year} imported: {off} days off and {make_up} make-up working days ({added} new); the due times of "
                    "{n} open requests were recomputed.").format(year=result.year, off=result.days_off,
                                                                 make_up=result.make_up_days, added=result.added,
                                                                 n=result.recomputed))
                return done(http_request, reverse("service:config_public_calendar") + f"?year={result.year}")
        return self.with_errors(import_form=form)


class CalendarYear(ConfigPage):
    """A year of a calendar: days off, make-up working days, named days and the calendar's own closures.
    `pk` absent: the public calendar (shared by every calendar that follows it)."""

    template_name = "service/config/calendar_year.html"
    change_permission = config.CHANGE_CALENDARS
    model = WorkCalendar  # what `pk` names (read by the URL-walk test)

    def work_calendar(self):
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(WorkCalendar, pk=self.kwargs["pk"])

    def here(self, year):
        base = (reverse("service:config_calendar", args=[self.kwargs["pk"]]) if "pk" in self.kwargs
                else reverse("service:config_public_calendar"))
        return f"{base}?year={year}"

    def get_context_data(self, **kwargs):
        work_calendar = self.work_calendar()
        year = kwargs.pop("year", None) or requested_year(self.request)
        kwargs.setdefault("day_form", DayForm(initial={"day": date(year, 1, 1)}))
        return {**super().get_context_data(**kwargs), "view": config.year_view(work_calendar, year),
                "work_calendar": work_calendar, "year": year, "previous_url": self.here(year - 1),
                "next_url": self.here(year + 1), "is_public": work_calendar is None,
                "priorities": Priority.choices}

    def post(self, http_request, **kwargs):
        self.require_change()
        work_calendar = self.work_calendar()
        action = http_request.POST.get("action", "")
        year = requested_year(http_request)
        if action == "remove":
            pk = row_id(http_request.POST.get("day_id", ""))
            row = CalendarDay.objects.filter(pk=pk, calendar=work_calendar).first() if pk else None
            if row is None:
                raise Http404
            recomputed = config.remove_day(row=row, by=http_request.user)
            messages.success(http_request, _("{day} removed; the due times of {n} open requests were recomputed.").format(
                day=row.day.isoformat(), n=recomputed))
            return done(http_request, self.here(row.day.year))
        if action == "mark_known" and work_calendar is None:
            try:
                config.mark_year_known(year=year, by=http_request.user)
            except DomainError as error:
                messages.error(http_request, error.message)
            else:
                messages.success(http_request, _("{year} is recorded as complete.").format(year=year))
            return done(http_request, self.here(year))
        form = DayForm(http_request.POST)
        if form.is_valid():
            try:
                row, recomputed = config.save_day(work_calendar=work_calendar, by=http_request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(http_request, _("{day} saved; the due times of {n} open requests were recomputed.").format(
                    day=row.day.isoformat(), n=recomputed))
                return done(http_request, self.here(row.day.year))
        return self.with_errors(day_form=form, year=year)


# ----------------------------------------------------------------------------------------------- policies

class PolicyList(ConfigPage):
    """The policies with their promises and a preview, and the projects (the user's own) with the policy each gets."""

    template_name = "service/config/policy_list.html"

    def get_context_data(self, **kwargs):
        from ..models import ProjectPolicy

        now = wall_clock.now()
        policies = list(SlaPolicy.objects.select_related("calendar").order_by("name"))
        projects = list(visible(Project.objects.select_related("customer").order_by("customer__name", "name"),
                                self.request.user)[:200])
        chosen = dict(ProjectPolicy.objects.filter(project__in=projects).values_list("project_id", "policy_id"))
        by_pk = {policy.pk: policy for policy in policies}
        default = next((policy for policy in policies if policy.is_default), None)
        rows = [{"project": project, "policy": by_pk.get(chosen.get(project.pk)) or default,
                 "own": project.pk in chosen} for project in projects]
        return {**super().get_context_data(**kwargs), "now": now, "projects": rows,
                "policies": [{"policy": policy, "preview": config.preview(policy, now=now)} for policy in policies]}


class PolicyDetail(ConfigPage):
    """A policy: its promises with a preview of a request opened now; for administrators (config.CHANGE_POLICIES) the
    forms to change its name, calendar, warning and default, its targets table, and deleting it."""

    template_name = "service/config/policy_detail.html"
    change_permission = config.CHANGE_POLICIES
    model = SlaPolicy

    def policy(self):
        return get_object_or_404(SlaPolicy.objects.select_related("calendar"), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        policy = kwargs.pop("policy", None) or self.policy()
        if self.request.user.has_perm(config.CHANGE_POLICIES):
            kwargs.setdefault("policy_form", PolicyForm(policy=policy))
            kwargs.setdefault("targets_form", TargetsForm(policy=policy))
            kwargs.setdefault("delete_form", DeletePolicyForm(initial={"version": policy.version}))
        now = wall_clock.now()
        return {**super().get_context_data(**kwargs), "policy": policy, "now": now,
                "preview": config.preview(policy, now=now), "usage": policy_config.usage(policy)}

    def again(self, policy, error: DomainError | None, **forms):
        """The page with the form that failed: a stale version answers 409 to htmx, any other refusal 422."""
        status = 409 if isinstance(error, StaleObject) else 422
        context = self.get_context_data(policy=policy, stale=isinstance(error, StaleObject), **forms)
        return render(self.request, self.template_name, context, status=error_status(self.request, status))

    def post(self, http_request, **kwargs):
        self.require_change()
        policy = self.policy()
        action = http_request.POST.get("action", "")
        by = http_request.user
        error = None
        if action == "delete":
            form = DeletePolicyForm(http_request.POST)
            if form.is_valid():
                try:
                    policy_config.delete_policy(policy=policy, by=by, version=form.cleaned_data["version"])
                except DomainError as refused:
                    error = refused
                    add_domain_error(form, refused)
                else:
                    messages.success(http_request, _("The policy “{name}” is deleted.").format(name=policy.name))
                    return done(http_request, reverse("service:config_policies"))
            return self.again(policy, error, delete_form=form)
        if action == "targets":
            form = TargetsForm(http_request.POST, policy=policy)
            if form.is_valid():
                try:
                    policy_config.update_policy(policy=policy, version=form.cleaned_data["version"],
                                                targets=form.targets(), by=by)
                except policy_config.TargetRuleError as refused:
                    error = refused
                    form.add_target_error(refused)
                except DomainError as refused:
                    error = refused
                    add_domain_error(form, refused)
                else:
                    messages.success(http_request, _("The targets are saved. Requests opened from now on get them; open "
                                                     "requests keep the targets they were given."))
                    return done(http_request, reverse("service:config_policy", args=[policy.pk]))
            return self.again(policy, error, targets_form=form)
        form = PolicyForm(http_request.POST, policy=policy)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = policy_config.update_policy(
                    policy=policy, version=data["version"], name=data["name"], calendar=data["calendar"],
                    warn_at_percent=data["warn_at_percent"], is_default=data["is_default"], by=by)
            except DomainError as refused:
                error = refused
                add_domain_error(form, refused)
            else:
                if saved.recomputed:
                    messages.success(http_request, _(
                        "The policy is saved; the due times of {n} open requests were recomputed on its calendar and "
                        "warning percentage.").format(n=saved.recomputed))
                else:
                    messages.success(http_request, _("The policy is saved."))
                return done(http_request, reverse("service:config_policy", args=[policy.pk]))
        return self.again(policy, error, policy_form=form)


class PolicyCreate(ConfigPage):
    """A new policy, empty or as a copy of another one's targets (?copy=<id> fills the form from that policy)."""

    template_name = "service/config/policy_new.html"
    permission_required = (config.VIEW_POLICIES, config.CHANGE_POLICIES)
    change_permission = config.CHANGE_POLICIES

    def get_context_data(self, **kwargs):
        if "form" not in kwargs:
            pk = row_id(self.request.GET.get("copy", ""))
            source = SlaPolicy.objects.filter(pk=pk).first() if pk else None
            initial = {"warn_at_percent": 80}
            if source is not None:
                initial = {"copy_from": source.pk, "calendar": source.calendar_id,
                           "warn_at_percent": source.warn_at_percent,
                           "name": _("{name} (copy)").format(name=source.name)[:policy_config.MAX_NAME_LENGTH]}
            kwargs["form"] = NewPolicyForm(initial=initial)
        return super().get_context_data(**kwargs)

    def post(self, http_request):
        self.require_change()
        form = NewPolicyForm(http_request.POST)
        if form.is_valid():
            try:
                policy = policy_config.create_policy(by=http_request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(http_request, _("The policy “{name}” is created. Requests get it once a project is "
                                                 "given it, or once it is made the default.").format(name=policy.name))
                return done(http_request, reverse("service:config_policy", args=[policy.pk]))
        return self.with_errors(form=form)


class ProjectPolicyPage(ConfigPage):
    """One project's SLA policy: choose it, and see what a request opened now would be promised."""

    template_name = "service/config/project_policy.html"
    change_permission = config.CHANGE_PROJECT_POLICY
    model = Project

    def project(self):
        return get_visible_or_404(Project.objects.select_related("customer"), self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        project = self.project()
        policy, own = config.policy_of_project(project)
        kwargs.setdefault("form", ProjectPolicyForm(initial={"policy": policy.pk if own and policy else None}))
        now = wall_clock.now()
        return {**super().get_context_data(**kwargs), "project": project, "policy": policy, "own": own, "now": now,
                "preview": config.preview(policy, now=now) if policy else []}

    def post(self, http_request, **kwargs):
        self.require_change()
        project = self.project()
        form = ProjectPolicyForm(http_request.POST)
        if form.is_valid():
            try:
                config.set_project_policy(project=project, policy=form.cleaned_data["policy"], by=http_request.user)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(http_request, _("The project's SLA policy is saved. New requests get it; open requests "
                                                 "keep the policy they were opened with."))
                return done(http_request, reverse("service:config_project_policy", args=[project.pk]))
        return self.with_errors(form=form)


# ----------------------------------------------------------------------------------------------- ladders

class LadderList(ConfigPage):
    template_name = "service/config/ladder_list.html"

    def get_context_data(self, **kwargs):
        branches = visible(Branch.objects.order_by("name"), self.request.user)[:200]
        return {**super().get_context_data(**kwargs), "ladders": [config.ladder(branch) for branch in branches],
                "default_ladder": config.ladder_for_display_default()}


class LadderPage(ConfigPage):
    """A branch's escalation ladder: who each step would notify today; a step that would notify nobody is refused;
    the branch's own ladder replaces the default (shown while the branch has none)."""

    template_name = "service/config/ladder.html"
    change_permission = config.CHANGE_LADDERS
    model = Branch

    def branch(self):
        return get_visible_or_404(Branch.objects.all(), self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        branch = self.branch()
        current = config.ladder(branch)
        next_level = max((step.level for step in current["steps"]), default=0) + 1 if current["own"] else 1
        holders = config.position_holders(branch.pk)
        kwargs.setdefault("step_form", StepForm(holders=holders, initial={"level": min(next_level, config.MAX_LEVELS)}))
        return {**super().get_context_data(**kwargs), "branch": branch, "ladder": current,
                "default_ladder": config.ladder_for_display_default()}

    def post(self, http_request, **kwargs):
        self.require_change()
        branch = self.branch()
        action = http_request.POST.get("action", "")
        here = reverse("service:config_ladder", args=[branch.pk])
        if action == "remove":
            pk = row_id(http_request.POST.get("step_id", ""))
            step = EscalationRule.objects.filter(pk=pk, branch=branch).first() if pk else None
            if step is None:
                raise Http404
            config.remove_step(step=step, by=http_request.user)
            messages.success(http_request, _("Level {level} removed.").format(level=step.level))
            return done(http_request, here)
        if action == "copy_default":
            try:
                config.copy_default_ladder(branch=branch, by=http_request.user)
            except DomainError as error:
                messages.error(http_request, error.message)
            else:
                messages.success(http_request, _("The branch has its own ladder now, a copy of the default."))
            return done(http_request, here)
        form = StepForm(http_request.POST, holders=config.position_holders(branch.pk))
        if form.is_valid():
            try:
                config.save_step(branch=branch, by=http_request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(http_request, _("Level {level} saved.").format(level=form.cleaned_data["level"]))
                return done(http_request, here)
        return self.with_errors(step_form=form)
