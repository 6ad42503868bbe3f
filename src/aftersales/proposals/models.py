"""LOG-3, LOG-4 (issue 25 §4-§5): problem and hidden-danger reports (隐患报告) and proposals.

The seed asks that the customer confirm problem and hidden-danger reports in writing (书面确认), choose among the
solution plans we propose, and that we make free upgrade and optimisation proposals. Written = a logged-in contact of
the customer in the portal, or the signed, single-use link mailed to the customer's contacts (proposals/links.py); each
records who (the user, or nobody for a link opened without login), when, how, and the name the signer typed.

A row's customer and branch are copied from its project (lists scope and count without a join). The verbs in
proposals/services.py are the only writers; each compares the row's version."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel


class Risk(models.TextChoices):
    HIGH = "high", pgettext_lazy("risk", "High")  # 高
    MEDIUM = "medium", pgettext_lazy("risk", "Medium")  # 中
    LOW = "low", pgettext_lazy("risk", "Low")  # 低


class HazardState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("hazard report", "Draft")  # 草稿
    AWAITING = "awaiting", _("Awaiting the customer's confirmation")  # 待客户确认
    CONFIRMED = "confirmed", pgettext_lazy("hazard report", "Confirmed in writing")  # 已书面确认
    REJECTED = "rejected", pgettext_lazy("hazard report", "Rejected by the customer")  # 客户已驳回


class AnsweredVia(models.TextChoices):
    PORTAL = "portal", _("In the customer portal")  # 客户门户
    LINK = "link", _("Through the link sent by mail")  # 邮件链接


class ProposalKind(models.TextChoices):
    SOLUTION = "solution", _("Solution plan for a problem")  # 问题解决方案
    UPGRADE = "upgrade", _("Free upgrade proposal")  # 免费升级建议
    OPTIMISATION = "optimisation", _("Optimisation proposal")  # 优化建议


class ProposalState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("proposal", "Draft")  # 草稿
    SENT = "sent", _("Sent, awaiting the customer's choice")  # 已发送,待客户选择
    CHOSEN = "chosen", _("Option chosen, follow-up under way")  # 已选定,跟进中
    DECLINED = "declined", pgettext_lazy("proposal", "Declined")  # 客户已谢绝
    DONE = "done", pgettext_lazy("proposal", "Done")  # 已完成


class StepState(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("follow-up step", "Planned")  # 计划中
    IN_PROGRESS = "in_progress", pgettext_lazy("follow-up step", "In progress")  # 进行中
    DONE = "done", pgettext_lazy("follow-up step", "Done")  # 已完成


class HazardReport(TimeStampedModel):
    """LOG-3: a problem or hidden danger we found on a project, written up for the customer, who confirms it in
    writing (or rejects it with a reason; a rejected report is revised and sent again). A confirmed report is final."""

    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="hazard_reports",
                                verbose_name=_("project"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    title = models.CharField(_("title"), max_length=200)
    devices = models.ManyToManyField("assets.Device", blank=True, related_name="hazard_reports",
                                     verbose_name=_("devices"))
    found_where = models.CharField(_("where found"), max_length=300, blank=True,
                                   help_text=_("Place, or the occasion: a repair, an inspection round."))
    service_request = models.ForeignKey("service.ServiceRequest", models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("found during the request"))
    inspection_round = models.ForeignKey("inspections.InspectionRound", models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("found during the inspection round"))
    description = models.TextField(_("description"))
    risk = models.CharField(_("risk level"), max_length=8, choices=Risk)
    consequence = models.TextField(_("possible consequence"), blank=True)
    recommendation = models.TextField(_("recommendation"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("author"))
    state = models.CharField(_("state"), max_length=10, choices=HazardState, default=HazardState.DRAFT)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("sent by"))
    times_sent = models.PositiveSmallIntegerField(_("times sent"), default=0)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("answered by"))  # None: a link opened without login
    answered_name = models.CharField(_("name typed by the customer"), max_length=100, blank=True)
    answered_via = models.CharField(_("answered through"), max_length=8, choices=AnsweredVia, blank=True)
    reject_reason = models.TextField(_("reason for rejecting"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("hidden-danger report")
        verbose_name_plural = _("hidden-danger reports")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("manage_proposals", _("Can write hidden-danger reports and proposals")),
            ("answer_proposals", _("Can confirm hidden-danger reports and choose proposals in writing")),
        ]
        constraints = [
            models.CheckConstraint(name="hazard_state_known", condition=Q(state__in=HazardState.values)),
            models.CheckConstraint(name="hazard_risk_known", condition=Q(risk__in=Risk.values)),
            models.CheckConstraint(name="hazard_title_not_blank", condition=~Q(title="")),
            models.CheckConstraint(
                name="hazard_answer_is_complete",
                condition=~Q(state__in=[HazardState.CONFIRMED, HazardState.REJECTED])
                | Q(answered_at__isnull=False) & ~Q(answered_name="") & ~Q(answered_via="")),
            models.CheckConstraint(name="hazard_rejected_has_reason",
                                   condition=~Q(state=HazardState.REJECTED) | ~Q(reject_reason="")),
        ]
        indexes = [
            models.Index(fields=["branch", "created_at"], name="hazard_branch_created"),
            models.Index(fields=["customer", "created_at"], name="hazard_customer_created"),
            models.Index(fields=["project", "created_at"], name="hazard_project_created"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"YH{self.pk:05d}" if self.pk else ""

    @property
    def editable(self) -> bool:
        return self.state in (HazardState.DRAFT, HazardState.REJECTED)

    def get_absolute_url(self):
        return reverse("proposals:hazard_detail", args=[self.pk])


class Proposal(TimeStampedModel):
    """LOG-3/LOG-4: a solution plan for a problem, or a free upgrade / optimisation proposal, with options (A, B, C);
    sent to the customer (the options are frozen), who chooses exactly one in writing or declines; the chosen option's
    follow-up is tracked in steps, and the proposal is done when every step is."""

    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="proposals",
                                verbose_name=_("project"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    kind = models.CharField(_("kind of proposal"), max_length=14, choices=ProposalKind)
    title = models.CharField(_("title"), max_length=200)
    background = models.TextField(_("background"), blank=True)
    hazard_report = models.ForeignKey(HazardReport, models.PROTECT, null=True, blank=True, related_name="proposals",
                                      verbose_name=_("hidden-danger report"))
    service_request = models.ForeignKey("service.ServiceRequest", models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("service request"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("author"))
    state = models.CharField(_("state"), max_length=10, choices=ProposalState, default=ProposalState.DRAFT)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("sent by"))
    chosen_option = models.ForeignKey("ProposalOption", models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("chosen option"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("answered by"))
    answered_name = models.CharField(_("name typed by the customer"), max_length=100, blank=True)
    answered_via = models.CharField(_("answered through"), max_length=8, choices=AnsweredVia, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(name="proposals_proposal_state_known", condition=Q(state__in=ProposalState.values)),
            models.CheckConstraint(name="proposal_kind_known", condition=Q(kind__in=ProposalKind.values)),
            models.CheckConstraint(name="proposal_title_not_blank", condition=~Q(title="")),
            models.CheckConstraint(
                name="proposal_chosen_has_option",
                condition=~Q(state__in=[ProposalState.CHOSEN, ProposalState.DONE])
                | Q(chosen_option__isnull=False, answered_at__isnull=False) & ~Q(answered_name="")),
            models.CheckConstraint(name="proposal_declined_has_reason",
                                   condition=~Q(state=ProposalState.DECLINED) | ~Q(decline_reason="")
                                   & Q(answered_at__isnull=False)),
            models.CheckConstraint(name="proposal_done_has_time",
                                   condition=~Q(state=ProposalState.DONE) | Q(done_at__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["branch", "created_at"], name="proposal_branch_created"),
            models.Index(fields=["customer", "created_at"], name="proposal_customer_created"),
            models.Index(fields=["project", "created_at"], name="proposal_project_created"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"FA{self.pk:05d}" if self.pk else ""

    def get_absolute_url(self):
        return reverse("proposals:proposal_detail", args=[self.pk])


class ProposalOption(models.Model):
    """One option of a proposal (A, B, C …): what we would do, what it costs (0 for a free one), how long it takes,
    what it disturbs. Frozen once the proposal is sent."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="options", verbose_name=_("proposal"))
    label = models.CharField(_("option"), max_length=2)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    cost = models.DecimalField(_("estimated cost (yuan)"), max_digits=12, decimal_places=2, default=0,
                               help_text=_("0 for a free option."))
    duration = models.CharField(_("duration"), max_length=100, blank=True, help_text=_("For example: 2 days."))
    impact = models.TextField(_("impact and downtime"), blank=True)

    scope_customer = "proposal__customer_id"
    scope_branch = "proposal__branch_id"

    class Meta:
        verbose_name = _("proposal option")
        verbose_name_plural = _("proposal options")
        ordering = ["proposal_id", "label"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "label"], name="proposal_option_label_once"),
            models.CheckConstraint(name="proposal_option_cost_not_negative", condition=Q(cost__gte=0)),
            models.CheckConstraint(name="proposal_option_title_not_blank", condition=~Q(title="")),
        ]

    def __str__(self):
        return f"{self.label}. {self.title}"

    @property
    def free(self) -> bool:
        return self.cost == 0


class FollowUpStep(models.Model):
    """One step of carrying out the chosen option: planned → in progress → done, with its dates and a note."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="steps", verbose_name=_("proposal"))
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("step"), max_length=200)
    state = models.CharField(_("state"), max_length=12, choices=StepState, default=StepState.PLANNED)
    planned_on = models.DateField(_("planned for"), null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("updated by"))
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    scope_customer = "proposal__customer_id"
    scope_branch = "proposal__branch_id"

    class Meta:
        verbose_name = _("follow-up step")
        verbose_name_plural = _("follow-up steps")
        ordering = ["proposal_id", "position", "pk"]
        constraints = [
            models.CheckConstraint(name="followup_state_known", condition=Q(state__in=StepState.values)),
            models.CheckConstraint(name="followup_done_has_date",
                                   condition=~Q(state=StepState.DONE) | Q(done_on__isnull=False)),
            models.CheckConstraint(name="followup_title_not_blank", condition=~Q(title="")),
        ]

    def __str__(self):
        return self.title
