"""TRN-1, TRN-2 (issue 23 §9): training sessions and the handover checklist.

The seed promises free training at the company or on site (集中和现场免费培训), product-update training, training held
jointly with the manufacturer (由上海致达和产品厂商共同培训), 1-2 practical sessions, and "培训结果将以书面形式进行反馈,
并由用户签字确认": the customer's written feedback, signed. After commissioning the company stays until "客户的系统维护
人员已经掌握基本的操作和具备一定经验,能独立进行系统管理和异常情况处理": the handover checklist, per project, of the
capabilities the customer's own staff have shown they master; the project runs independently (独立运行) only when
every item is demonstrated.

A session's customer and branch are copied from its project (lists scope and count without a join). The verbs in
training/services.py are the only writers; each of them writes a TrainingLog line (who, when, what)."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel


class SessionKind(models.TextChoices):
    HANDOVER = "handover", _("Installation handover")  # 安装交接培训
    PRODUCT_UPDATE = "product_update", _("Product update")  # 产品更新培训
    JOINT_WITH_VENDOR = "joint_vendor", _("Joint with the vendor")  # 与厂商联合培训


class Venue(models.TextChoices):
    COMPANY = "company", _("At our company")  # 公司内部
    ON_SITE = "on_site", _("On the customer's site")  # 用户现场


class SessionState(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("training session", "Planned")  # 计划中
    HELD = "held", _("Held, awaiting feedback")  # 已培训,待反馈
    SIGNED = "signed", _("Feedback signed")  # 反馈已签字
    CANCELLED = "cancelled", pgettext_lazy("training session", "Cancelled")  # 已取消


class SignedVia(models.TextChoices):
    SCREEN = "screen", _("Signed on our screen")  # 现场屏幕签字
    PORTAL = "portal", _("Signed in the customer portal")  # 客户门户签字
    LINK = "link", _("Signed through the link sent by mail")  # 邮件链接签字


RATING_MIN, RATING_MAX = 1, 5


def material_path(instance, filename):
    return f"training/{instance.session_id}/{secrets.token_hex(8)}-{filename[-80:]}"


def signature_path(instance, filename):
    return f"training/signatures/{secrets.token_hex(16)}.png"  # never guessable; shown inline, never by a media URL


class TrainingSession(TimeStampedModel):
    """TRN-1: one session, planned → held (awaiting the customer's written feedback) → feedback signed; or cancelled
    while planned."""

    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="training_sessions",
                                verbose_name=_("project"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind of training"), max_length=14, choices=SessionKind)
    venue = models.CharField(_("venue"), max_length=10, choices=Venue)
    place = models.CharField(_("place"), max_length=200, blank=True, help_text=_("Address or room."))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    content = models.TextField(_("content"), help_text=_("Topics, one per line."))
    trainers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="trainings_given",
                                      verbose_name=_("our trainers"))
    vendor_trainers = models.CharField(_("vendor's trainers"), max_length=300, blank=True,
                                       help_text=_("Names and company of the manufacturer's trainers."))
    state = models.CharField(_("state"), max_length=10, choices=SessionState, default=SessionState.PLANNED)
    summary = models.TextField(_("what was covered"), blank=True)
    held_at = models.DateTimeField(_("recorded as held at"), null=True, blank=True)
    held_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("recorded by"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("planned by"))
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at", "-pk"]
        permissions = [
            ("manage_training", _("Can plan and record training sessions")),
            ("sign_training_feedback", _("Can sign the written feedback of a training")),
            ("record_handover", _("Can record the handover checklist")),
        ]
        constraints = [
            models.CheckConstraint(name="training_state_known", condition=Q(state__in=SessionState.values)),
            models.CheckConstraint(name="training_kind_known", condition=Q(kind__in=SessionKind.values)),
            models.CheckConstraint(name="training_venue_known", condition=Q(venue__in=Venue.values)),
            models.CheckConstraint(name="training_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))),
            models.CheckConstraint(name="training_held_has_time",
                                   condition=~Q(state__in=[SessionState.HELD, SessionState.SIGNED])
                                   | Q(held_at__isnull=False)),
            models.CheckConstraint(name="training_cancelled_has_time",
                                   condition=~Q(state=SessionState.CANCELLED) | Q(cancelled_at__isnull=False)),
            models.CheckConstraint(name="training_title_not_blank", condition=~Q(title="")),
        ]
        indexes = [
            models.Index(fields=["branch", "starts_at"], name="training_branch_starts"),
            models.Index(fields=["customer", "starts_at"], name="training_customer_starts"),
            models.Index(fields=["project", "starts_at"], name="training_project_starts"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"PX{self.pk:05d}" if self.pk else ""

    def get_absolute_url(self):
        return reverse("training:session_detail", args=[self.pk])

    @property
    def vendor_trainer_list(self) -> list[str]:
        return [name.strip() for name in self.vendor_trainers.replace("，", ",").split(",") if name.strip()]


class Attendee(models.Model):
    """One of the customer's staff invited to a session; `attended` is recorded when the session is held."""

    session = models.ForeignKey(TrainingSession, models.CASCADE, related_name="attendees", verbose_name=_("session"))
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("position"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    attended = models.BooleanField(_("attended"), default=False)

    scope_customer = "session__customer_id"
    scope_branch = "session__branch_id"

    class Meta:
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")
        ordering = ["session_id", "pk"]
        constraints = [models.CheckConstraint(name="attendee_name_not_blank", condition=~Q(name=""))]

    def __str__(self):
        return self.name


class TrainingMaterial(models.Model):
    """A handout, slide deck or manual of a session, stored through Django's storage API and served only through the
    scoped download page (lessons.md #7)."""

    session = models.ForeignKey(TrainingSession, models.CASCADE, related_name="materials", verbose_name=_("session"))
    file = models.FileField(upload_to=material_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    scope_customer = "session__customer_id"
    scope_branch = "session__branch_id"

    class Meta:
        verbose_name = _("training material")
        verbose_name_plural = _("training materials")
        ordering = ["session_id", "pk"]

    def __str__(self):
        return self.original_name

    def get_absolute_url(self):
        return reverse("training:material", args=[self.pk])


class TrainingFeedback(models.Model):
    """The customer's written feedback on a held session (评价, 意见, rating), with the signer's name and the signature
    drawn on screen (a PNG). One per session; a session with feedback is `signed`."""

    session = models.OneToOneField(TrainingSession, models.PROTECT, related_name="feedback", verbose_name=_("session"))
    evaluation = models.TextField(_("evaluation"))  # 评价
    opinions = models.TextField(_("opinions and suggestions"), blank=True)  # 意见
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(RATING_MIN),
                                                                       MaxValueValidator(RATING_MAX)])
    signer_name = models.CharField(_("name of the signer"), max_length=100)
    signature = models.FileField(upload_to=signature_path, max_length=255)
    signed_via = models.CharField(_("signed"), max_length=10, choices=SignedVia)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("signed by"))  # the customer's user; None: someone with no login
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("on the screen of"))  # our engineer, for a signature on screen
    signed_at = models.DateTimeField(_("signed at"))

    scope_customer = "session__customer_id"
    scope_branch = "session__branch_id"

    class Meta:
        verbose_name = _("training feedback")
        verbose_name_plural = _("training feedback")
        constraints = [
            models.CheckConstraint(name="feedback_rating_range", condition=Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX)),
            models.CheckConstraint(name="feedback_signed_via_known", condition=Q(signed_via__in=SignedVia.values)),
            models.CheckConstraint(name="feedback_has_signer", condition=~Q(signer_name="")),
            models.CheckConstraint(name="feedback_has_signature", condition=~Q(signature="")),
        ]

    def __str__(self):
        return f"{self.session_id} {self.signer_name}"


class HandoverItem(TimeStampedModel):
    """TRN-2: one capability of the project's handover checklist (e.g. "play back and export recordings"), marked
    once the customer's own staff demonstrated it independently: who, when, in which session."""

    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="handover_items",
                                verbose_name=_("project"))
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    capability = models.CharField(_("capability"), max_length=200)
    demonstrated_by = models.CharField(_("demonstrated by"), max_length=100, blank=True,
                                       help_text=_("The customer's staff member who did it alone."))
    demonstrated_on = models.DateField(_("demonstrated on"), null=True, blank=True)
    session = models.ForeignKey(TrainingSession, models.PROTECT, null=True, blank=True, related_name="handover_items",
                                verbose_name=_("in the session"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("handover checklist item")
        verbose_name_plural = _("handover checklist items")
        ordering = ["project_id", "position", "pk"]
        constraints = [
            models.CheckConstraint(name="handover_capability_not_blank", condition=~Q(capability="")),
            models.CheckConstraint(
                name="handover_done_is_complete",
                condition=Q(demonstrated_on__isnull=True, demonstrated_by="", recorded_at__isnull=True)
                | Q(demonstrated_on__isnull=False, recorded_at__isnull=False) & ~Q(demonstrated_by="")),
            models.UniqueConstraint(fields=["project", "capability"], name="handover_capability_once",
                                    violation_error_message=_("This capability is on the checklist already.")),
        ]
        indexes = [models.Index(fields=["customer", "project"], name="handover_customer_project"),
                   models.Index(fields=["branch", "project"], name="handover_branch_project")]

    def __str__(self):
        return self.capability

    @property
    def done(self) -> bool:
        return self.demonstrated_on is not None

    def get_absolute_url(self):
        return reverse("training:handover", args=[self.project_id])


class LogKind(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CHANGED = "changed", _("Plan changed")
    ATTENDEE_ADDED = "attendee_added", _("Attendee added")
    ATTENDEE_REMOVED = "attendee_removed", _("Attendee removed")
    MATERIAL_ADDED = "material_added", _("Material added")
    HELD = "held", _("Recorded as held")
    LINK_SENT = "link_sent", _("Feedback link sent")
    SIGNED = "signed", _("Feedback signed")
    CANCELLED = "cancelled", pgettext_lazy("training log", "Cancelled")
    ITEM_ADDED = "item_added", _("Checklist item added")
    DEMONSTRATED = "demonstrated", _("Demonstrated independently")
    REOPENED = "reopened", _("Checklist item reopened")


class TrainingLog(models.Model):
    """Append-only: what happened to a project's trainings and handover checklist (who, when, what); actor None is
    someone with no login (the signer of a mailed link)."""

    project = models.ForeignKey("customers.Project", models.CASCADE, related_name="+", db_index=False)
    customer = models.ForeignKey("customers.Customer", models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey("accounts.Branch", models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(TrainingSession, models.CASCADE, null=True, blank=True, related_name="log")
    item = models.ForeignKey(HandoverItem, models.CASCADE, null=True, blank=True, related_name="log")
    kind = models.CharField(_("what"), max_length=20, choices=LogKind)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("done by"))
    data = models.JSONField(default=dict, blank=True)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("training log line")
        verbose_name_plural = _("training log")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["project", "at"], name="training_log_project_at")]

    def __str__(self):
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
