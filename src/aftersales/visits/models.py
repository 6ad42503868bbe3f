"""VIS-1 return visits (回访) and VIS-2 the system operation survey (《售后系统运行调查表》).

A project's `VisitSchedule` (monthly or quarterly, and optionally after each closed service request) makes one
`ReturnVisit` per period: the unique key (schedule, period) lets the hourly job run on several workers at once and
twice over without a second visit. A visit records the customer's needs and questions, and its follow-up actions
(`FollowUp`, each with an owner and a due date, tracked to done). A `Survey` has exactly the seed's fields; it is sent
as a signed, expiring, single-use link or filled in by staff during a visit, once per project and month (a database
constraint); a low satisfaction or an abnormality opens one follow-up.

Every row copies the customer and branch of its project, so lists scope and count without a join (SEC-1). The verbs
in services.py are the only writers."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel

from . import periods


class Cadence(models.TextChoices):
    MONTHLY = periods.MONTHLY, _("Monthly")  # 每月
    QUARTERLY = periods.QUARTERLY, _("Quarterly")  # 每季度


class VisitKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")  # 定期回访
    AFTER_REQUEST = "after_request", _("After a closed service request")  # 报修结案后回访
    AD_HOC = "ad_hoc", _("Ad hoc")  # 临时回访


class VisitMethod(models.TextChoices):
    PHONE = "phone", _("By phone")  # 电话回访 (the seed's 电话跟踪式服务)
    ON_SITE = "on_site", _("On site")  # 上门
    REMOTE = "remote", _("Online")  # 线上


class VisitState(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("return visit", "Planned")  # 待回访
    DONE = "done", pgettext_lazy("return visit", "Done")  # 已回访
    CANCELLED = "cancelled", _("Cancelled")  # 已取消


class FollowUpState(models.TextChoices):
    OPEN = "open", pgettext_lazy("follow-up", "Open")  # 待跟进
    DONE = "done", pgettext_lazy("follow-up", "Done")  # 已完成


class SurveyState(models.TextChoices):
    PENDING = "pending", _("Awaiting the answer")  # 待填写
    ANSWERED = "answered", _("Answered")  # 已填写


class AnsweredVia(models.TextChoices):
    LINK = "link", _("The mailed link")  # 邮件链接
    PORTAL = "portal", _("The customer portal")  # 客户门户
    STAFF = "staff", _("Staff, during a visit")  # 回访时由服务人员填写


class Satisfaction(models.IntegerChoices):
    VERY_SATISFIED = 5, _("Very satisfied")  # 非常满意
    SATISFIED = 4, _("Satisfied")  # 满意
    NEUTRAL = 3, pgettext_lazy("satisfaction", "Neutral")  # 一般
    DISSATISFIED = 2, _("Dissatisfied")  # 不满意
    VERY_DISSATISFIED = 1, _("Very dissatisfied")  # 非常不满意


LOW_SATISFACTION = Satisfaction.DISSATISFIED  # at or below: the survey opens a follow-up

# The seed's form (《售后系统运行调查表》), in its order: these and no other fields.
SURVEY_FIELDS = ("project_name", "contract_number", "surveyed_at", "equipment_usage", "system_operation",
                 "system_stability", "abnormal", "abnormal_description", "satisfaction", "remarks")
# What the person answering fills in (project name and contract number come from the project).
ANSWER_FIELDS = SURVEY_FIELDS[2:]


def _user(related_name="+", **kwargs):
    return models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                             related_name=related_name, **kwargs)


class ProjectScoped(TimeStampedModel):
    """Customer and branch copied from the project when the row is written (scoping without a join)."""

    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="+", verbose_name=_("project"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        abstract = True


class VisitSchedule(ProjectScoped):
    """VIS-1: a project's return visits, monthly or quarterly (每月或季度回访一次), and optionally one after each
    closed service request. One active schedule per project."""

    cadence = models.CharField(_("cadence"), max_length=10, choices=Cadence, default=Cadence.MONTHLY)
    day_of_month = models.PositiveSmallIntegerField(
        _("due on day"), default=15, help_text=_("Day of the month the visit is due; 31 is the last day of every month."))
    month_of_quarter = models.PositiveSmallIntegerField(
        _("month of the quarter"), default=1, choices=[(1, _("First")), (2, _("Second")), (3, _("Third"))],
        help_text=_("Quarterly only: in which month of the quarter the visit is due."))
    method = models.CharField(_("method"), max_length=10, choices=VisitMethod, default=VisitMethod.PHONE)
    owner = _user(verbose_name=_("owner"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    after_requests = models.BooleanField(
        _("also after each closed service request"), default=False)
    days_after_request = models.PositiveSmallIntegerField(
        _("days after the request is closed"), default=7)
    active = models.BooleanField(_("active"), default=True)
    # The last day whose period has its visit: the job works on the schedules with generated_until < today.
    generated_until = models.DateField(editable=False)
    created_by = _user(editable=False, verbose_name=_("created by"))

    class Meta:
        verbose_name = _("visit schedule")
        verbose_name_plural = _("visit schedules")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(name="visit_schedule_cadence_known", condition=Q(cadence__in=Cadence.values)),
            models.CheckConstraint(name="visit_schedule_method_known", condition=Q(method__in=VisitMethod.values)),
            models.CheckConstraint(name="visit_schedule_day_in_month", condition=Q(day_of_month__gte=1, day_of_month__lte=31)),
            models.CheckConstraint(name="visit_schedule_month_of_quarter",
                                   condition=Q(month_of_quarter__gte=1, month_of_quarter__lte=3)),
            models.CheckConstraint(name="visit_schedule_days_after_bounded", condition=Q(days_after_request__lte=90)),
            models.CheckConstraint(name="visit_schedule_ends_after_start",
                                   condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on"))),
            models.UniqueConstraint(fields=["project"], condition=Q(active=True), name="one_active_visit_schedule",
                                    violation_error_message=_("This project has an active visit schedule already.")),
        ]
        indexes = [models.Index(fields=["active", "generated_until"], name="visit_schedule_due"),
                   models.Index(fields=["branch", "active"], name="visit_schedule_branch")]

    def __str__(self):
        return f"{self.project.name} · {self.get_cadence_display()}"

    def get_absolute_url(self):
        return reverse("visits:schedule_update", args=[self.pk])


class ReturnVisit(ProjectScoped):
    """VIS-1: one return visit (回访) of a project: due on a day, done by phone, on site or online; records the
    customer's needs and questions and what we answered; its follow-up actions are `FollowUp` rows."""

    kind = models.CharField(_("kind"), max_length=14, choices=VisitKind)
    schedule = models.ForeignKey(VisitSchedule, models.PROTECT, null=True, blank=True, related_name="visits",
                                 db_index=False, verbose_name=_("schedule"))
    period_start = models.DateField(_("period"), null=True, blank=True)
    service_request = models.ForeignKey("service.ServiceRequest", models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("service request"))
    due_on = models.DateField(_("due on"))
    owner = _user(verbose_name=_("owner"))
    method = models.CharField(_("method"), max_length=10, choices=VisitMethod, default=VisitMethod.PHONE)
    purpose = models.TextField(_("purpose"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=VisitState, default=VisitState.PLANNED)
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    done_by = _user(verbose_name=_("done by"))
    contact_person = models.CharField(_("customer's contact person"), max_length=100, blank=True)
    needs = models.TextField(_("needs"), blank=True)  # 需求
    questions = models.TextField(_("questions"), blank=True)  # 疑问
    answers = models.TextField(_("answers given"), blank=True)  # 解答
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    created_by = _user(editable=False, verbose_name=_("created by"))  # None: the schedule's job

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["-due_on", "-pk"]
        permissions = [
            ("plan_visit", _("Can plan return visits and their schedules")),
            ("record_visit", _("Can record return visits")),
            ("work_follow_up", _("Can add and complete follow-up actions")),
        ]
        constraints = [
            models.CheckConstraint(name="visit_kind_known", condition=Q(kind__in=VisitKind.values)),
            models.CheckConstraint(name="visit_state_known", condition=Q(state__in=VisitState.values)),
            models.CheckConstraint(name="visit_method_known", condition=Q(method__in=VisitMethod.values)),
            models.CheckConstraint(name="visit_scheduled_names_its_period",
                                   condition=~Q(kind=VisitKind.SCHEDULED)
                                   | Q(schedule__isnull=False, period_start__isnull=False)),
            models.CheckConstraint(name="visit_after_request_names_it",
                                   condition=~Q(kind=VisitKind.AFTER_REQUEST) | Q(service_request__isnull=False)),
            models.CheckConstraint(name="visit_done_has_time",
                                   condition=~Q(state=VisitState.DONE) | Q(visited_at__isnull=False)),
            # Exactly once per schedule and period, also with the job running twice or on several workers at once.
            models.UniqueConstraint(fields=["schedule", "period_start"], condition=Q(schedule__isnull=False),
                                    name="visit_once_per_schedule_period"),
            models.UniqueConstraint(fields=["service_request"], condition=Q(service_request__isnull=False),
                                    name="visit_once_per_request"),
        ]
        indexes = [
            models.Index(fields=["branch", "state", "due_on"], name="visit_branch_state_due"),
            models.Index(fields=["customer", "due_on"], name="visit_customer_due"),
            models.Index(fields=["owner", "state", "due_on"], name="visit_owner_state_due"),
            models.Index(fields=["project", "due_on"], name="visit_project_due"),
        ]

    def __str__(self):
        return f"{self.number} {self.project.name}"

    @property
    def number(self) -> str:
        return f"HF{self.pk:06d}" if self.pk else ""

    def is_overdue(self, today) -> bool:
        """Due and not done: shown overdue until it is recorded or cancelled."""
        return self.state == VisitState.PLANNED and self.due_on < today

    def get_absolute_url(self):
        return reverse("visits:visit_detail", args=[self.pk])


class Survey(ProjectScoped):
    """VIS-2: the system operation survey (《售后系统运行调查表》), exactly the seed's fields (SURVEY_FIELDS); one per
    project and month. Answered through the mailed link (signed, expiring, single use: `link_nonce`), in the customer
    portal, or by staff during a visit."""

    period = models.DateField(_("month"), help_text=_("The first day of the month the survey is for."))
    visit = models.ForeignKey(ReturnVisit, models.PROTECT, null=True, blank=True, related_name="surveys",
                              verbose_name=_("return visit"))
    state = models.CharField(_("state"), max_length=10, choices=SurveyState, default=SurveyState.PENDING)
    # --- the seed's form: 项目名称, 项目合同号 (as they were when the survey was made), 调查时间 … 备注
    project_name = models.CharField(_("project name"), max_length=200)
    contract_number = models.CharField(_("contract number"), max_length=60)
    surveyed_at = models.DateTimeField(_("survey time"), null=True, blank=True)
    equipment_usage = models.TextField(_("equipment usage"), blank=True)
    system_operation = models.TextField(_("system operation"), blank=True)
    system_stability = models.TextField(_("system stability"), blank=True)
    abnormal = models.BooleanField(_("any abnormality"), null=True, blank=True)
    abnormal_description = models.TextField(_("abnormality description"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("service response satisfaction"), choices=Satisfaction,
                                                    null=True, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    # --- how it travelled
    sent_to = _user(verbose_name=_("sent to"))
    sent_at = models.DateTimeField(_("link sent at"), null=True, blank=True)
    link_expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)  # "": no link works
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = _user(verbose_name=_("answered by"))  # None: through the link, without an account
    answered_via = models.CharField(_("answered through"), max_length=10, choices=AnsweredVia, blank=True)
    created_by = _user(editable=False, verbose_name=_("created by"))

    class Meta:
        verbose_name = _("system operation survey")
        verbose_name_plural = _("system operation surveys")
        ordering = ["-period", "-pk"]
        permissions = [
            ("send_survey", _("Can send system operation surveys")),
            ("answer_survey", _("Can fill in or answer a system operation survey")),
        ]
        constraints = [
            # VIS-2: one survey per project and month, refused by the database.
            models.UniqueConstraint(fields=["project", "period"], name="survey_once_per_project_period",
                                    violation_error_message=_("This project has a survey for this month already.")),
            models.CheckConstraint(name="survey_state_known", condition=Q(state__in=SurveyState.values)),
            models.CheckConstraint(name="survey_via_known", condition=Q(answered_via__in=["", *AnsweredVia.values])),
            models.CheckConstraint(name="survey_satisfaction_range",
                                   condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5)),
            models.CheckConstraint(
                name="survey_answered_is_complete",
                condition=~Q(state=SurveyState.ANSWERED) | Q(answered_at__isnull=False, surveyed_at__isnull=False,
                                                             abnormal__isnull=False, satisfaction__isnull=False)),
            models.CheckConstraint(name="survey_abnormal_is_described",
                                   condition=~Q(abnormal=True) | ~Q(abnormal_description="")),
        ]
        indexes = [
            models.Index(fields=["branch", "period"], name="survey_branch_period"),
            models.Index(fields=["customer", "period"], name="survey_customer_period"),
        ]

    def __str__(self):
        return f"{self.project_name} · {self.period:%Y-%m}"

    @property
    def is_answered(self) -> bool:
        return self.state == SurveyState.ANSWERED

    @property
    def is_low(self) -> bool:
        return self.satisfaction is not None and self.satisfaction <= LOW_SATISFACTION

    def get_absolute_url(self):
        return reverse("visits:survey_detail", args=[self.pk])


class FollowUp(ProjectScoped):
    """A follow-up action (跟进事项) of a return visit, or the one a survey opens on a low satisfaction or an
    abnormality; it has an owner and a due date and is tracked to done."""

    visit = models.ForeignKey(ReturnVisit, models.PROTECT, null=True, blank=True, related_name="follow_ups",
                              verbose_name=_("return visit"))
    survey = models.ForeignKey(Survey, models.PROTECT, null=True, blank=True, related_name="follow_ups",
                               verbose_name=_("survey"))
    description = models.TextField(_("follow-up action"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("owner"))
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=6, choices=FollowUpState, default=FollowUpState.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = _user(verbose_name=_("done by"))
    resolution = models.TextField(_("what was done"), blank=True)
    created_by = _user(editable=False, verbose_name=_("created by"))  # None: opened by a survey's answer

    class Meta:
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(name="follow_up_state_known", condition=Q(state__in=FollowUpState.values)),
            models.CheckConstraint(name="follow_up_of_a_visit_or_a_survey",
                                   condition=Q(visit__isnull=False, survey__isnull=True)
                                   | Q(visit__isnull=True, survey__isnull=False)),
            models.CheckConstraint(name="follow_up_done_has_time",
                                   condition=~Q(state=FollowUpState.DONE) | Q(done_at__isnull=False)),
            # A survey's answer opens exactly one follow-up, however often it is submitted.
            models.UniqueConstraint(fields=["survey"], condition=Q(survey__isnull=False), name="one_follow_up_per_survey"),
        ]
        indexes = [
            models.Index(fields=["branch", "state", "due_on"], name="follow_up_branch_state_due"),
            models.Index(fields=["customer", "state"], name="follow_up_customer_state"),
            models.Index(fields=["owner", "state", "due_on"], name="follow_up_owner_state_due"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.description[:40]}"

    def is_overdue(self, today) -> bool:
        return self.state == FollowUpState.OPEN and self.due_on < today

    def get_absolute_url(self):
        if self.visit_id:
            return reverse("visits:visit_detail", args=[self.visit_id]) + f"#follow-up-{self.pk}"
        return reverse("visits:survey_detail", args=[self.survey_id]) + f"#follow-up-{self.pk}"
