"""LOG-3 (issue 25 §4): change notices (变更通知).

The seed: the customer notifies us before changing the network, devices or servers and before installing patches or
software, so that we can test compatibility. A notice carries the planned change and its window; staff record one or
more compatibility tests (what was tested, where, the result, the evidence) and answer before the window: compatible,
compatible with conditions, or not compatible, with a text for the customer.

State: submitted → under test (the first test recorded) → answered → closed (after the window); the customer may
withdraw it until the window has ended. `answer_due_at` is computed once, at submission (changes/deadlines.py), and
stored with `warn_at` (due soon): the sweep (changes/sweep.py) warns the desk once when a notice is due soon and once
when it is overdue, like an SLA target. Customer and branch are copied from the project (lists scope and count
without a join). The verbs in changes/services.py are the only writers."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChangeKind(models.TextChoices):
    NETWORK = "network", _("Network change")  # 网络变更
    DEVICE = "device", _("Device change")  # 设备变更
    SERVER = "server", _("Server change")  # 服务器变更
    PATCH = "patch", _("Patch installation")  # 安装补丁
    SOFTWARE = "software", _("Software installation")  # 安装软件
    OTHER = "other", pgettext_lazy("change notice", "Other change")  # 其他变更


class NoticeChannel(models.TextChoices):
    PORTAL = "portal", _("Customer portal")  # 客户门户
    API = "api", _("API")  # 接口
    STAFF = "staff", _("Entered by staff for the customer")  # 工作人员代录


class NoticeState(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("change notice", "Submitted")  # 已提交
    UNDER_TEST = "under_test", _("Under test")  # 测试中
    ANSWERED = "answered", pgettext_lazy("change notice", "Answered")  # 已答复
    CLOSED = "closed", pgettext_lazy("change notice", "Closed")  # 已关闭
    WITHDRAWN = "withdrawn", pgettext_lazy("change notice", "Withdrawn")  # 已撤回


OPEN_STATES = (NoticeState.SUBMITTED, NoticeState.UNDER_TEST)  # awaiting our answer: the sweep watches these
WITHDRAWABLE_STATES = (NoticeState.SUBMITTED, NoticeState.UNDER_TEST, NoticeState.ANSWERED)


class Verdict(models.TextChoices):
    COMPATIBLE = "compatible", _("Compatible")  # 兼容
    CONDITIONAL = "conditional", _("Compatible with conditions")  # 有条件兼容
    INCOMPATIBLE = "incompatible", _("Not compatible")  # 不兼容


class TestResult(models.TextChoices):
    PASSED = "passed", pgettext_lazy("compatibility test", "Passed")  # 通过
    ISSUES = "issues", _("Passed with issues")  # 通过但有问题
    FAILED = "failed", pgettext_lazy("compatibility test", "Failed")  # 未通过


def evidence_path(instance, filename):
    return f"changes/{instance.notice_id}/{secrets.token_hex(8)}-{filename[-80:]}"


class ChangeNotice(models.Model):
    """LOG-3: one planned change announced by the customer, with its window and our answer."""

    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="change_notices",
                                verbose_name=_("project"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    kind = models.CharField(_("kind of change"), max_length=10, choices=ChangeKind)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(pgettext_lazy("change notice", "description"))
    devices = models.ManyToManyField("assets.Device", blank=True, related_name="change_notices",
                                     verbose_name=_("affected devices"))
    window_starts_at = models.DateTimeField(_("window starts at"))
    window_ends_at = models.DateTimeField(_("window ends at"))
    state = models.CharField(_("state"), max_length=10, choices=NoticeState, default=NoticeState.SUBMITTED)
    channel = models.CharField(_("channel"), max_length=10, choices=NoticeChannel)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"))
    answer_due_at = models.DateTimeField(_("answer due at"))  # deadlines.answer_due_at(), stored at submission
    warn_at = models.DateTimeField(_("due soon at"))  # deadlines.due_soon_at(): the desk's first warning
    warned_at = models.DateTimeField(null=True, blank=True, editable=False)  # the "due soon" warning fired
    overdue_at = models.DateTimeField(null=True, blank=True, editable=False)  # the "overdue" warning fired
    verdict = models.CharField(_("verdict"), max_length=12, choices=Verdict, blank=True)
    answer = models.TextField(_("answer to the customer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("answered by"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("withdrawn by"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.TextField(_("reason for withdrawing"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("change notice")
        verbose_name_plural = _("change notices")
        ordering = ["answer_due_at", "pk"]
        permissions = [
            ("submit_change_notice", _("Can submit and withdraw change notices")),
            ("handle_change_notice", _("Can record compatibility tests and answer change notices")),
        ]
        constraints = [
            models.CheckConstraint(name="change_kind_known", condition=Q(kind__in=ChangeKind.values)),
            models.CheckConstraint(name="change_state_known", condition=Q(state__in=NoticeState.values)),
            models.CheckConstraint(name="change_channel_known", condition=Q(channel__in=NoticeChannel.values)),
            models.CheckConstraint(name="change_verdict_known", condition=Q(verdict="") | Q(verdict__in=Verdict.values)),
            models.CheckConstraint(name="change_window_ends_after_start",
                                   condition=Q(window_ends_at__gt=F("window_starts_at"))),
            models.CheckConstraint(name="change_warned_before_due", condition=Q(warn_at__lte=F("answer_due_at"))),
            models.CheckConstraint(name="change_title_not_blank", condition=~Q(title="")),
            models.CheckConstraint(name="change_answered_has_verdict",
                                   condition=Q(answered_at__isnull=True)
                                   | (Q(verdict__in=Verdict.values) & ~Q(answer=""))),
            models.CheckConstraint(name="change_answered_state_has_time",
                                   condition=~Q(state__in=["answered", "closed"]) | Q(answered_at__isnull=False)),
            models.CheckConstraint(name="change_withdrawn_has_time",
                                   condition=~Q(state="withdrawn") | Q(withdrawn_at__isnull=False)),
        ]
        indexes = [
            # The desk's list: open notices by their answer deadline, per branch (or per customer for the portal).
            models.Index(fields=["branch", "answer_due_at"], name="change_branch_due"),
            models.Index(fields=["customer", "answer_due_at"], name="change_customer_due"),
            models.Index(fields=["project", "window_starts_at"], name="change_project_window"),
            # The sweep's two reads: only what is open and not yet warned costs it anything.
            models.Index(fields=["warn_at"], name="change_due_soon",
                         condition=Q(warned_at__isnull=True, state__in=["submitted", "under_test"])),
            models.Index(fields=["answer_due_at"], name="change_overdue",
                         condition=Q(overdue_at__isnull=True, state__in=["submitted", "under_test"])),
            models.Index(fields=["window_ends_at"], name="change_to_close", condition=Q(state="answered")),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"BG{self.pk:05d}" if self.pk else ""

    def get_absolute_url(self):
        return reverse("changes:notice_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CompatibilityTest(models.Model):
    """LOG-3: one compatibility test of a notice: what was tested, in which environment, the result, the evidence
    (notes and an optional file: a screenshot, a PDF report, a text log), who and when."""

    notice = models.ForeignKey(ChangeNotice, models.CASCADE, related_name="tests", verbose_name=_("change notice"))
    subject = models.CharField(_("what was tested"), max_length=300)
    environment = models.CharField(_("environment"), max_length=300, blank=True,
                                   help_text=_("Lab, test server, a spare unit, the customer's site …"))
    result = models.CharField(pgettext_lazy("compatibility test", "result"), max_length=8, choices=TestResult)
    evidence = models.TextField(pgettext_lazy("compatibility test", "evidence"), blank=True, help_text=_("What was observed: versions, logs, figures."))
    evidence_file = models.FileField(_("evidence file"), upload_to=evidence_path, max_length=255, blank=True)
    evidence_name = models.CharField(_("file name"), max_length=255, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    evidence_size = models.PositiveIntegerField(_("size"), null=True, blank=True)
    tested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                  verbose_name=_("tested by"))
    tested_at = models.DateTimeField(_("tested at"))

    scope_customer = "notice__customer_id"
    scope_branch = "notice__branch_id"

    class Meta:
        verbose_name = _("compatibility test")
        verbose_name_plural = _("compatibility tests")
        ordering = ["notice_id", "tested_at", "pk"]
        constraints = [
            models.CheckConstraint(name="change_test_result_known", condition=Q(result__in=TestResult.values)),
            models.CheckConstraint(name="change_test_subject_not_blank", condition=~Q(subject="")),
        ]
        indexes = [models.Index(fields=["notice", "tested_at"], name="change_test_notice")]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return self.notice.get_absolute_url() + f"#test-{self.pk}"

    def evidence_url(self) -> str:
        return reverse("changes:evidence", args=[self.pk]) if self.evidence_file else ""
