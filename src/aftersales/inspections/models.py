"""INS-1 and INS-3 (issue 23 §1, §3): inspection plans, the rounds they generate, versioned checklists, and what an
engineer records on a round: one check per device (the checklist version it used, its time and position) and one
answer per (device, item), sent by a phone with its own id and time.

Rounds are generated ahead by the worker, exactly once per (plan, period): the period's first day is part of a unique
key, so two generators running at once cannot both write a round. Their states and the moves between them are data
(inspections/transitions.py); the verbs in inspections/services.py are the only writers, and each move is a RoundEvent
line (who, when, from which state to which), the round's audit."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel

from .schedule import MONTHLY, QUARTERLY


class Cadence(models.TextChoices):
    MONTHLY = MONTHLY, _("Monthly")  # 每月
    QUARTERLY = QUARTERLY, _("Quarterly")  # 每季度


class DeviceSelection(models.TextChoices):
    CATEGORIES = "categories", _("Every device of the checklists' categories")
    CHOSEN = "chosen", _("Chosen devices")


class ItemKind(models.TextChoices):
    PASS_FAIL = "pass_fail", _("Pass / fail")  # 合格/不合格
    READING = "reading", _("Reading")  # 读数
    PHOTO = "photo", _("Photo")  # 拍照
    TEXT = "text", pgettext_lazy("checklist item kind", "Text")  # 文字


class RoundState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting the customer's approval")  # 待客户确认
    SCHEDULED = "scheduled", pgettext_lazy("inspection round", "Scheduled")  # 待巡检
    IN_PROGRESS = "in_progress", pgettext_lazy("inspection round", "In progress")  # 巡检中
    DONE = "done", pgettext_lazy("inspection round", "Done")  # 已完成
    MISSED = "missed", pgettext_lazy("inspection round", "Missed")  # 已错过


UNSTARTED_STATES = [RoundState.AWAITING_APPROVAL, RoundState.SCHEDULED]
PENDING_STATES = [*UNSTARTED_STATES, RoundState.IN_PROGRESS]  # not done yet, may still become missed


class EventKind(models.TextChoices):
    GENERATED = "generated", _("Generated")
    RESCHEDULED = "rescheduled", _("Rescheduled after the plan changed")
    APPROVE = "approve", _("Approved by the customer")
    OVERRIDE_APPROVAL = "override_approval", _("Started without the customer's approval")
    START = "start", _("Started")
    COMPLETE = "complete", _("Completed")
    MARK_MISSED = "mark_missed", _("Missed")
    EXPLAIN_MISSED = "explain_missed", _("Reason for the missed round recorded")
    REASSIGN = "reassign", _("Engineer changed")
    SKIP_DEVICE = "skip_device", _("Device not checked")
    # INS-2 (issue 23 §2), the approval gate's negotiation (inspections/approvals.py)
    APPROVAL_REQUESTED = "approval_requested", _("Window sent to the customer for approval")
    WINDOW_PROPOSED = "window_proposed", _("The customer proposed another window")
    WINDOW_ACCEPTED = "window_accepted", _("The customer's window accepted")
    # INS-4, INS-5 (issue 23 §5, §6): what became of a finding; the report issued and confirmed
    FINDING_REQUEST = "finding_request", _("Finding turned into a service request")
    FINDING_JOINED = "finding_joined", _("Finding added to the device's open request")
    FINDING_REPAIR = "finding_repair", _("Finding turned into a repair case")
    FINDING_DISMISSED = "finding_dismissed", _("Finding dismissed")
    REPORT_ISSUED = "report_issued", _("Report sent to the customer")
    REPORT_CONFIRMED = "report_confirmed", _("Report confirmed by the customer")


# ------------------------------------------------------------------------------------------------ checklists (INS-3)

class ChecklistTemplate(TimeStampedModel):
    """A checklist for one device category. Its items live in versions: editing the checklist writes a new version
    (`current`); a round keeps the version it started with."""

    name = models.CharField(_("name"), max_length=120)
    category = models.ForeignKey("assets.DeviceCategory", models.PROTECT, related_name="checklists",
                                 verbose_name=_("device category"))
    current = models.ForeignKey("ChecklistVersion", models.PROTECT, null=True, blank=True, related_name="+",
                                editable=False, verbose_name=_("current version"))
    is_active = models.BooleanField(_("in use"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)  # compare-and-set of edits

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["category__name", "name", "pk"]
        permissions = [("manage_checklists", _("Can write and revise inspection checklists"))]
        constraints = [models.UniqueConstraint(fields=["category", "name"], name="checklist_name_per_category"),
                       models.CheckConstraint(name="checklist_name_not_blank", condition=~Q(name=""))]

    def __str__(self):
        return f"{self.name} ({self.category})"

    def get_absolute_url(self):
        return reverse("inspections:checklist_detail", args=[self.pk])


class ChecklistVersion(models.Model):
    """One version of a checklist, never edited once written."""

    template = models.ForeignKey(ChecklistTemplate, models.PROTECT, related_name="versions",
                                 verbose_name=_("checklist"))
    number = models.PositiveIntegerField(_("version"))
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))

    class Meta:
        verbose_name = _("checklist version")
        verbose_name_plural = _("checklist versions")
        ordering = ["template_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="checklist_version_once")]

    def __str__(self):
        return f"{self.template.name} v{self.number}"


class ChecklistItem(models.Model):
    version = models.ForeignKey(ChecklistVersion, models.PROTECT, related_name="items", verbose_name=_("version"))
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind)
    label = models.CharField(_("item"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    min_value = models.DecimalField(_("lowest valid reading"), max_digits=12, decimal_places=3, null=True, blank=True)
    max_value = models.DecimalField(_("highest valid reading"), max_digits=12, decimal_places=3, null=True, blank=True)
    evidence_required = models.BooleanField(_("evidence required"), default=False,
                                            help_text=_("A photo (or a reading) must be sent with the answer."))
    # INS-4 (issue 23 §5): a finding on this item becomes a service request at once (or joins the device's open one)
    opens_request = models.BooleanField(_("open a request automatically"), default=False,
                                        help_text=_("A failed answer or a reading out of range opens a service "
                                                    "request at once."))

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="checklist_item_position_once"),
            models.CheckConstraint(name="checklist_item_kind_known", condition=Q(kind__in=ItemKind.values)),
            models.CheckConstraint(name="checklist_item_label_not_blank", condition=~Q(label="")),
            models.CheckConstraint(name="checklist_item_range_ordered",
                                   condition=Q(min_value__isnull=True) | Q(max_value__isnull=True)
                                   | Q(min_value__lte=F("max_value"))),
            models.CheckConstraint(name="checklist_item_range_on_readings",
                                   condition=Q(kind=ItemKind.READING) | Q(min_value__isnull=True, max_value__isnull=True)),
        ]

    def __str__(self):
        return self.label

    def out_of_range(self, reading) -> bool:
        return reading is not None and ((self.min_value is not None and reading < self.min_value)
                                        or (self.max_value is not None and reading > self.max_value))


# ------------------------------------------------------------------------------------------------ plans (INS-1)

class InspectionPlan(TimeStampedModel):
    """INS-1: a project's preventive inspections, monthly or quarterly, anchored to the calendar (schedule.py)."""

    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="inspection_plans",
                                verbose_name=_("project"))
    # Copied from the project, so lists scope without a join (like repair cases).
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    name = models.CharField(_("name"), max_length=120)
    cadence = models.CharField(_("cadence"), max_length=10, choices=Cadence)
    starts_on = models.DateField(_("first round on or after"))
    ends_on = models.DateField(_("last round on or before"), null=True, blank=True)
    anchor_day = models.PositiveSmallIntegerField(
        _("day of the month"), validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("Rounds are due on this day; in shorter months on their last day."))
    anchor_month = models.PositiveSmallIntegerField(
        _("month of the quarter"), default=0, validators=[MaxValueValidator(2)],
        help_text=_("Quarterly plans: 0 = first month of each quarter, 1 = second, 2 = third."))
    selection = models.CharField(_("devices"), max_length=12, choices=DeviceSelection,
                                 default=DeviceSelection.CATEGORIES)
    checklists = models.ManyToManyField(ChecklistTemplate, related_name="plans", verbose_name=_("checklists"))
    devices = models.ManyToManyField("assets.Device", blank=True, related_name="inspection_plans",
                                     verbose_name=_("chosen devices"))
    engineers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="inspection_plans",
                                       verbose_name=_("engineers"),
                                       help_text=_("Rounds are assigned to them in turn."))
    needs_approval = models.BooleanField(
        _("customer approval needed"), default=False,
        help_text=_("A round starts only once the customer has approved its window, or a manager overrides it."))
    horizon_days = models.PositiveSmallIntegerField(_("generate ahead (days)"), default=90,
                                                    validators=[MinValueValidator(7), MaxValueValidator(400)])
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("created by"))
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["-pk"]
        permissions = [("manage_plans", _("Can create and change inspection plans")),
                       ("oversee_rounds", _("Can see every inspection round of the branch and manage them"))]
        constraints = [
            models.CheckConstraint(name="plan_cadence_known", condition=Q(cadence__in=Cadence.values)),
            models.CheckConstraint(name="plan_selection_known", condition=Q(selection__in=DeviceSelection.values)),
            models.CheckConstraint(name="plan_anchor_day_in_month", condition=Q(anchor_day__gte=1, anchor_day__lte=31)),
            models.CheckConstraint(name="plan_anchor_month_in_quarter",
                                   condition=Q(anchor_month=0) | Q(cadence=QUARTERLY, anchor_month__lte=2)),
            models.CheckConstraint(name="plan_ends_after_start",
                                   condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on"))),
            models.CheckConstraint(name="plan_name_not_blank", condition=~Q(name="")),
        ]
        indexes = [models.Index(fields=["branch", "is_active"], name="plan_branch_active"),
                   models.Index(fields=["customer"], name="plan_customer"),
                   models.Index(fields=["is_active"], name="plan_active_generate", condition=Q(is_active=True))]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inspections:plan_detail", args=[self.pk])


class InspectionRound(TimeStampedModel):
    """One round of a plan in one period (a calendar month or quarter, its window), due on the plan's anchored day."""

    plan = models.ForeignKey(InspectionPlan, models.PROTECT, related_name="rounds", verbose_name=_("plan"))
    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="+", editable=False,
                                db_index=False, verbose_name=_("project"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    period_start = models.DateField(_("period"))  # first day of the month or quarter: one round per plan and period
    window_end = models.DateField(_("window ends"))
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=20, choices=RoundState, default=RoundState.SCHEDULED)
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("engineer"))
    needs_approval = models.BooleanField(_("customer approval needed"), default=False)
    # The approval gate (INS-2) writes approved_at through services.record_approval(); until then, or an override
    # with a reason, a round needing approval cannot start.
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("approved by"))
    override_reason = models.TextField(_("reason for starting without approval"), blank=True)
    overridden_at = models.DateTimeField(_("approval overridden at"), null=True, blank=True)
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("approval overridden by"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)  # the phone's time
    started_received_at = models.DateTimeField(_("start received at"), null=True, blank=True)  # the server's
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)  # the phone's time
    completed_received_at = models.DateTimeField(_("completion received at"), null=True, blank=True)
    summary = models.TextField(_("evaluation and suggestions"), blank=True)
    missed_at = models.DateTimeField(_("marked missed at"), null=True, blank=True)
    missed_reason = models.TextField(_("why it was missed"), blank=True)
    missed_reason_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("reason recorded by"))
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("inspection round")
        verbose_name_plural = _("inspection rounds")
        ordering = ["due_on", "pk"]
        permissions = [("do_rounds", _("Can start, record and complete the inspection rounds assigned to them"))]
        constraints = [
            # Exactly once per (plan, period), whoever generates it and however many generators run at once.
            models.UniqueConstraint(fields=["plan", "period_start"], name="round_once_per_plan_period",
                                    violation_error_message=_("This plan has a round in this period already.")),
            models.CheckConstraint(name="round_state_known", condition=Q(state__in=RoundState.values)),
            models.CheckConstraint(name="round_due_in_window",
                                   condition=Q(due_on__gte=F("period_start"), due_on__lte=F("window_end"))),
            models.CheckConstraint(name="round_started_has_time",
                                   condition=Q(state__in=UNSTARTED_STATES) | Q(state=RoundState.MISSED)
                                   | Q(started_at__isnull=False)),
            models.CheckConstraint(name="round_done_has_time",
                                   condition=~Q(state=RoundState.DONE) | Q(completed_at__isnull=False)),
            models.CheckConstraint(name="round_missed_has_time",
                                   condition=~Q(state=RoundState.MISSED) | Q(missed_at__isnull=False)),
            models.CheckConstraint(name="round_override_has_reason",
                                   condition=Q(overridden_at__isnull=True) | ~Q(override_reason="")),
            models.CheckConstraint(name="round_awaiting_needs_approval",
                                   condition=~Q(state=RoundState.AWAITING_APPROVAL) | Q(needs_approval=True)),
        ]
        indexes = [
            models.Index(fields=["branch", "due_on"], name="round_branch_due"),
            models.Index(fields=["customer", "due_on"], name="round_customer_due"),
            models.Index(fields=["engineer", "due_on"], name="round_engineer_due"),
            models.Index(fields=["project", "due_on"], name="round_project_due"),
            # the missed-round sweep reads only what is still pending
            models.Index(fields=["window_end"], name="round_pending_window",
                         condition=Q(state__in=PENDING_STATES)),
        ]

    def __str__(self):
        return f"{self.number} {self.plan.name} · {self.period_label}"

    @property
    def number(self) -> str:
        return f"XJ{self.pk:06d}" if self.pk else ""

    @property
    def period_label(self) -> str:
        if self.window_end.month - self.period_start.month >= 2 or self.window_end.year != self.period_start.year:
            return f"{self.period_start.year} Q{(self.period_start.month - 1) // 3 + 1}"
        return f"{self.period_start:%Y-%m}"

    @property
    def approval_pending(self) -> bool:
        return self.needs_approval and self.approved_at is None and self.overridden_at is None

    def get_absolute_url(self):
        return reverse("inspections:round_detail", args=[self.pk])


class RoundEvent(models.Model):
    """Append-only: one line per move of a round (who, when, from which state to which); actor None is the system."""

    round = models.ForeignKey(InspectionRound, models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(_("event"), max_length=20, choices=EventKind)
    from_state = models.CharField(_("state before"), max_length=20, choices=RoundState, blank=True)
    to_state = models.CharField(_("state after"), max_length=20, choices=RoundState, blank=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("done by"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    scope_customer = "round__customer_id"
    scope_branch = "round__branch_id"

    class Meta:
        verbose_name = _("round event")
        verbose_name_plural = _("round events")
        ordering = ["round_id", "at", "pk"]
        indexes = [models.Index(fields=["round", "at"], name="round_event_round_at")]

    def __str__(self):
        return f"{self.round_id} {self.kind}"


class DeviceCheck(models.Model):
    """One device of a started round, with the checklist version it is checked against (frozen when the round
    starts), and the phone's time and position of its latest answer."""

    round = models.ForeignKey(InspectionRound, models.CASCADE, related_name="checks", verbose_name=_("round"))
    device = models.ForeignKey("assets.Device", models.PROTECT, related_name="inspection_checks",
                               verbose_name=_("device"))
    checklist = models.ForeignKey(ChecklistVersion, models.PROTECT, related_name="+",
                                  verbose_name=_("checklist version"))
    position = models.PositiveIntegerField(_("position"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)  # the phone's time
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)
    skipped_reason = models.TextField(_("why it was not checked"), blank=True)

    scope_customer = "round__customer_id"
    scope_branch = "round__branch_id"

    class Meta:
        verbose_name = _("device check")
        verbose_name_plural = _("device checks")
        ordering = ["round_id", "position"]
        constraints = [models.UniqueConstraint(fields=["round", "device"], name="device_checked_once_per_round")]
        indexes = [models.Index(fields=["device", "round"], name="device_check_history")]

    def __str__(self):
        return f"{self.round_id} {self.device_id}"


def photo_path(instance, filename):
    return f"inspections/{instance.round_id}/{secrets.token_hex(8)}-{filename[-80:]}"


class Answer(models.Model):
    """One answer to one item for one device, sent with the phone's own id (`client_id`) and time. The same id sent
    again is the same answer; a newer answer to the same item (another id, a later phone time) becomes the current
    one and the older is kept."""

    client_id = models.UUIDField(_("client id"), unique=True)
    round = models.ForeignKey(InspectionRound, models.CASCADE, related_name="answers", db_index=False,
                              verbose_name=_("round"))
    device_check = models.ForeignKey(DeviceCheck, models.CASCADE, related_name="answers", db_index=False,
                              verbose_name=_("device check"))
    item = models.ForeignKey(ChecklistItem, models.PROTECT, related_name="+", verbose_name=_("item"))
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    reading = models.DecimalField(_("reading"), max_digits=12, decimal_places=3, null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    note = models.TextField(_("note"), blank=True)
    photo = models.FileField(_("photo"), upload_to=photo_path, max_length=255, blank=True)
    photo_type = models.CharField(max_length=40, blank=True)
    photo_size = models.PositiveIntegerField(null=True, blank=True)
    finding = models.BooleanField(_("finding"), default=False,
                                  help_text=_("Failed, or a reading outside its valid range."))
    answered_at = models.DateTimeField(_("answered at (phone)"))
    received_at = models.DateTimeField(_("received at (server)"))
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    is_current = models.BooleanField(_("current"), default=True)

    scope_customer = "round__customer_id"
    scope_branch = "round__branch_id"

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["device_check_id", "item_id", "-answered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["device_check", "item"], condition=Q(is_current=True),
                                    name="one_current_answer_per_item"),
        ]
        indexes = [models.Index(fields=["round", "device_check"], name="answer_round_check"),
                   models.Index(fields=["device_check", "item"], name="answer_check_item")]

    def __str__(self):
        return str(self.client_id)


# ------------------------------------------------------------------------------------------------ approval gate (INS-2)

class ProposalSide(models.TextChoices):
    PROVIDER = "provider", _("Our proposal")  # 我方提议
    CUSTOMER = "customer", _("The customer's proposal")  # 客户提议


class ProposalState(models.TextChoices):
    OPEN = "open", _("Waiting for an answer")  # 待答复
    ACCEPTED = "accepted", pgettext_lazy("window proposal", "Accepted")  # 已接受
    COUNTERED = "countered", _("Another window proposed")  # 已另提时间
    WITHDRAWN = "withdrawn", _("Withdrawn")  # 已撤回


class WindowProposal(models.Model):
    """INS-2 (issue 23 §2): one window (a time range inside the round's period) put by one side of the negotiation
    of a round needing the customer's approval, with who proposed it and when, and how it was answered. Our side's
    proposal also says what will be done (scope) and the expected downtime; the customer approves it (the round is
    approved) or proposes another window, which our side accepts (the round is approved) or answers with another.
    At most one proposal of a round is open; `number` is the request version (the reminders are keyed by it)."""

    round = models.ForeignKey(InspectionRound, models.CASCADE, related_name="proposals", db_index=False,
                              verbose_name=_("round"))
    # Copied from the round, so lists scope without a join.
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    number = models.PositiveSmallIntegerField(_("request version"))
    side = models.CharField(_("proposed by"), max_length=10, choices=ProposalSide)
    starts_at = models.DateTimeField(_("window starts"))
    ends_at = models.DateTimeField(_("window ends"))
    scope = models.TextField(_("scope of work"), blank=True)
    downtime_minutes = models.PositiveIntegerField(_("expected downtime (minutes)"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("proposed by"))
    proposed_by_name = models.CharField(_("name given"), max_length=100, blank=True)  # through the link, no account
    proposed_at = models.DateTimeField(_("proposed at"))
    via = models.CharField(_("through"), max_length=10, blank=True)  # desk, portal, link, api
    state = models.CharField(_("state"), max_length=10, choices=ProposalState, default=ProposalState.OPEN)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("answered by"))
    answered_by_name = models.CharField(_("name given"), max_length=100, blank=True)
    answered_via = models.CharField(_("through"), max_length=10, blank=True)
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)  # the link works while it is set
    next_reminder_at = models.DateTimeField(null=True, blank=True, editable=False)  # the reminder sweep reads this
    reminders_sent = models.PositiveSmallIntegerField(default=0, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("window proposal")
        verbose_name_plural = _("window proposals")
        ordering = ["round_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["round", "number"], name="proposal_number_once"),
            models.UniqueConstraint(fields=["round"], condition=Q(state="open"), name="proposal_one_open_per_round"),
            models.CheckConstraint(name="proposal_side_known", condition=Q(side__in=ProposalSide.values)),
            models.CheckConstraint(name="proposal_state_known", condition=Q(state__in=ProposalState.values)),
            models.CheckConstraint(name="proposal_window_ordered", condition=Q(ends_at__gt=F("starts_at"))),
            models.CheckConstraint(name="proposal_answered_has_time",
                                   condition=Q(state="open") | Q(answered_at__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["customer", "state"], name="proposal_customer_state"),
            models.Index(fields=["branch", "state"], name="proposal_branch_state"),
            # the reminder sweep reads only what is still waiting for the customer
            models.Index(fields=["next_reminder_at"], name="proposal_reminder_due",
                         condition=Q(next_reminder_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.round_id} #{self.number}"

    def get_via_display(self) -> str:
        return str(PROPOSAL_VIA.get(self.via, self.via))

    def get_answered_via_display(self) -> str:
        return str(PROPOSAL_VIA.get(self.answered_via, self.answered_via))


PROPOSAL_VIA = {"desk": _("on the desk's page"), "portal": _("in the customer portal"),  # 客服页面 / 客户门户
                "link": _("through the mailed link"), "api": _("through the API")}  # 邮件链接 / 接口


class CalendarToken(models.Model):
    """Issue 23 §10: the unguessable key of one user's calendar feed (iCalendar), usable without a session until it
    is revoked. A feed shows what its user may see now (the scoping door), of one project or of the user's own work
    (`project` empty: the rounds, trainings and visits assigned to them; a customer's user: their projects')."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("user"))
    key = models.CharField(max_length=64, unique=True, editable=False)
    project = models.ForeignKey("customers.Project", models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("project"))
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="calendar_token_user")]

    def __str__(self):
        return f"{self.user_id} {self.project_id or '-'}"


# ------------------------------------------------------------------------------------------------ findings (INS-4)

class FindingState(models.TextChoices):
    OPEN = "open", pgettext_lazy("inspection finding", "Open")  # 待处理
    REQUEST_OPENED = "request_opened", _("Service request opened")  # 已转报修
    JOINED_REQUEST = "joined_request", _("Added to the open request")  # 已并入报修
    REPAIR_OPENED = "repair_opened", _("Repair case opened")  # 已转维修
    DISMISSED = "dismissed", _("Dismissed")  # 已关闭


class Finding(models.Model):
    """INS-4 (issue 23 §5): a failed item or a reading out of its range, one per (device check, item) of a round,
    kept with the current answer that flagged it (its photo, reading and the phone's time: `found_at`). Its customer is
    told at once; it becomes a service request (or joins the device's open one), or a repair case, or is dismissed
    with a reason. A later answer to the same item that passes dismisses an open finding (the reason says so)."""

    round = models.ForeignKey(InspectionRound, models.CASCADE, related_name="findings", db_index=False,
                              verbose_name=_("round"))
    # Copied from the round, so lists scope without a join.
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    device_check = models.ForeignKey(DeviceCheck, models.CASCADE, related_name="findings", db_index=False,
                                     verbose_name=_("device check"))
    device = models.ForeignKey("assets.Device", models.PROTECT, related_name="inspection_findings",
                               verbose_name=_("device"))
    item = models.ForeignKey(ChecklistItem, models.PROTECT, related_name="+", verbose_name=_("item"))
    answer = models.ForeignKey(Answer, models.PROTECT, related_name="+", verbose_name=_("answer"))
    found_at = models.DateTimeField(_("found at (phone)"))
    received_at = models.DateTimeField(_("received at (server)"))
    state = models.CharField(_("state"), max_length=16, choices=FindingState, default=FindingState.OPEN)
    service_request = models.ForeignKey("service.ServiceRequest", models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("service request"))
    repair_case = models.ForeignKey("repairs.RepairCase", models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("repair case"))
    dismissed_reason = models.TextField(_("why it was dismissed"), blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("handled by"))
    automatic = models.BooleanField(_("handled automatically"), default=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("inspection finding")
        verbose_name_plural = _("inspection findings")
        ordering = ["round_id", "device_check_id", "item__position", "pk"]
        permissions = [("handle_findings", _("Can turn inspection findings into requests or repair cases, and issue "
                                             "and have inspection reports signed"))]
        constraints = [
            models.UniqueConstraint(fields=["device_check", "item"], name="finding_once_per_item"),
            models.CheckConstraint(name="finding_state_known", condition=Q(state__in=FindingState.values)),
            models.CheckConstraint(name="finding_request_has_request",
                                   condition=~Q(state__in=["request_opened", "joined_request"])
                                   | Q(service_request__isnull=False)),
            models.CheckConstraint(name="finding_repair_has_case",
                                   condition=~Q(state="repair_opened") | Q(repair_case__isnull=False)),
            models.CheckConstraint(name="finding_dismissed_has_reason",
                                   condition=~Q(state="dismissed") | ~Q(dismissed_reason="")),
        ]
        indexes = [models.Index(fields=["round", "state"], name="finding_round_state"),
                   models.Index(fields=["customer", "state"], name="finding_customer_state"),
                   models.Index(fields=["branch", "state"], name="finding_branch_state"),
                   models.Index(fields=["service_request"], name="finding_request",
                                condition=Q(service_request__isnull=False)),
                   models.Index(fields=["repair_case"], name="finding_repair",
                                condition=Q(repair_case__isnull=False))]

    def __str__(self):
        return f"{self.round_id} · {self.item_id}"

    def get_absolute_url(self):
        return reverse("inspections:findings", args=[self.round_id]) + f"#finding-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == FindingState.OPEN


# ------------------------------------------------------------------------------------------------ report (INS-5)

class ReportState(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting the customer's confirmation")  # 待客户确认
    CONFIRMED = "confirmed", _("Confirmed by the customer")  # 客户已确认


class ReportSignedVia(models.TextChoices):
    SCREEN = "screen", _("Signed on our screen")  # 现场屏幕签字
    PORTAL = "portal", _("Signed in the customer portal")  # 客户门户签字
    LINK = "link", _("Signed through the link sent by mail")  # 邮件链接签字


def report_signature_path(instance, filename):
    return f"inspections/signatures/{secrets.token_hex(16)}.png"  # never guessable; shown inline, never by a media URL


class InspectionReport(models.Model):
    """INS-5 (issue 23 §6): the report of a done round, issued by our side with its evaluation and improvement
    suggestions, and confirmed by the customer with a signature: on our engineer's screen, in the portal, or through
    the signed link of the mail (no account). Issuing it again before it is confirmed moves the version on, so an
    earlier link stops working. Once confirmed it does not change; both sides keep it (printable page, portal)."""

    round = models.OneToOneField(InspectionRound, models.CASCADE, related_name="report", verbose_name=_("round"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    evaluation = models.TextField(_("evaluation"))  # 评价
    suggestions = models.TextField(_("improvement suggestions"), blank=True)  # 改进建议
    state = models.CharField(_("state"), max_length=10, choices=ReportState, default=ReportState.AWAITING)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("issued by"))
    signer_name = models.CharField(_("name of the signer"), max_length=100, blank=True)
    signature = models.FileField(upload_to=report_signature_path, max_length=255, blank=True)
    comment = models.TextField(_("the customer's comment"), blank=True)
    signed_via = models.CharField(_("signed"), max_length=10, choices=ReportSignedVia, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("signed by"))  # the customer's user; None: someone with no login
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("on the screen of"))  # our engineer, for a signature on screen
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("inspection report")
        verbose_name_plural = _("inspection reports")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="report_state_known", condition=Q(state__in=ReportState.values)),
            models.CheckConstraint(name="report_has_evaluation", condition=~Q(evaluation="")),
            models.CheckConstraint(name="report_confirmed_is_signed",
                                   condition=~Q(state="confirmed") | (Q(confirmed_at__isnull=False)
                                                                      & ~Q(signer_name="") & ~Q(signature="")
                                                                      & Q(signed_via__in=ReportSignedVia.values))),
        ]
        indexes = [models.Index(fields=["customer", "state"], name="report_customer_state"),
                   models.Index(fields=["branch", "state"], name="report_branch_state")]

    def __str__(self):
        return f"{self.round_id}"

    def get_absolute_url(self):
        return reverse("inspections:report", args=[self.round_id])
