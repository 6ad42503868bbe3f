"""CUS-4 (issue 22 §1): a device's coverage as dated periods.

The two warranty periods (manufacturer 原厂保修, integrator extension 集成商延保) are computed from the dates the device
stores (assets), never copied here where they could drift (coverage.warranty_periods). Paid maintenance contracts
(维保合同) are stored: a `ServiceContract` and its `CoveragePeriod` rows. A renewal is a new period that `renews` the
one before, never an edited end date, so who was covered when stays on record; each period brings its own reminders
(`CoverageReminder`, one row per period, end date and offset, written before anything is sent).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel


class CoverageKind(models.TextChoices):
    MANUFACTURER = "manufacturer", _("Manufacturer warranty")  # 原厂保修
    INTEGRATOR = "integrator", _("Integrator extended warranty")  # 集成商延保
    CONTRACT = "contract", _("Maintenance contract")  # 维保合同


WARRANTY_KINDS = (CoverageKind.MANUFACTURER, CoverageKind.INTEGRATOR)


class Renewal(models.TextChoices):
    TACIT = "tacit", _("Tacit: renews unless notice is given")  # 默认续约
    EXPRESS = "express", _("Express: renewed only by a decision")  # 明示续约


class ReplacementCoverage(models.TextChoices):
    """What a device that replaces a covered one gets (issue 22 §3; the repairs call contracts.services)."""

    CARRY_OVER = "carry_over", _("Carries the remaining coverage over")  # 延续原设备剩余保修
    RESTART = "restart", _("Restarts the coverage")  # 保修期重新计算


class ResponseTier(models.TextChoices):
    ROUND_THE_CLOCK = "7x24", _("7×24")
    OFFICE_HOURS = "office_hours", _("Office hours")  # 工作时间 5×8
    NEXT_BUSINESS_DAY = "next_business_day", _("Next business day")  # 次工作日


# Strongest first: the tier of a day covered by several periods is the strongest of theirs.
TIER_STRENGTH = {ResponseTier.ROUND_THE_CLOCK: 0, ResponseTier.OFFICE_HOURS: 1, ResponseTier.NEXT_BUSINESS_DAY: 2}

REMINDER_OFFSETS = (90, 30, 7)  # days before a period ends
MAX_NOTICE_DAYS = 365


class ServiceContract(TimeStampedModel):
    """A paid maintenance contract (维保合同) of a project: for the whole project, or for the devices it lists."""

    choice_label_fields = ("number",)
    number = models.CharField(_("service contract number"), max_length=60, unique=True)
    project = models.ForeignKey(
        "customers.Project", models.PROTECT, related_name="service_contracts", verbose_name=_("project"))
    whole_project = models.BooleanField(
        _("covers the whole project"), default=True,
        help_text=_("Every device of the project, also those added later; otherwise only the devices listed."))
    devices = models.ManyToManyField(
        "assets.Device", blank=True, related_name="service_contracts", verbose_name=_("devices"))
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(0)])
    renewal = models.CharField(_("renewal"), max_length=10, choices=Renewal, default=Renewal.EXPRESS)
    notice_days = models.PositiveSmallIntegerField(
        _("notice (days)"), default=30, validators=[MaxValueValidator(MAX_NOTICE_DAYS)],
        help_text=_("How many days before a period ends notice must be given to stop a renewal."))
    replacement = models.CharField(
        _("a replacement device"), max_length=12, choices=ReplacementCoverage, default=ReplacementCoverage.CARRY_OVER)
    notes = models.TextField(_("notes"), blank=True)
    cancelled_on = models.DateField(_("notice given on"), null=True, blank=True, editable=False)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, editable=False,
                                     related_name="+", verbose_name=_("notice recorded by"))
    cancel_reason = models.TextField(_("reason for not renewing"), blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, editable=False,
                                   related_name="+", verbose_name=_("created by"))
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "project__customer_id"
    scope_branch = "project__branch_id"

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(name="contract_renewal_known", condition=Q(renewal__in=Renewal.values)),
            models.CheckConstraint(name="contract_replacement_known",
                                   condition=Q(replacement__in=ReplacementCoverage.values)),
            models.CheckConstraint(name="contract_amount_not_negative", condition=Q(amount__isnull=True) | Q(amount__gte=0)),
            models.CheckConstraint(name="contract_notice_bounded", condition=Q(notice_days__lte=MAX_NOTICE_DAYS)),
            models.CheckConstraint(name="contract_cancel_has_date",
                                   condition=Q(cancelled_by__isnull=True) | Q(cancelled_on__isnull=False)),
            models.CheckConstraint(name="contract_number_not_blank", condition=~Q(number="")),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("contracts:contract_detail", args=[self.pk])

    @property
    def cancelled(self) -> bool:
        return self.cancelled_on is not None


class CoveragePeriod(TimeStampedModel):
    """One dated period of a contract (inclusive dates) and what it covers. A renewal is a new row (`renews`)."""

    contract = models.ForeignKey(ServiceContract, models.PROTECT, related_name="periods", verbose_name=_("contract"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    covers_parts = models.BooleanField(_("parts"), default=True)
    covers_labour = models.BooleanField(_("labour"), default=True)
    covers_onsite = models.BooleanField(_("on-site service"), default=True)
    response_tier = models.CharField(_("response"), max_length=20, choices=ResponseTier, blank=True)
    renews = models.OneToOneField("self", models.PROTECT, null=True, blank=True, editable=False,
                                  related_name="renewed_by", verbose_name=_("renews"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, editable=False,
                                   related_name="+", verbose_name=_("created by"))  # None: the tacit renewal job
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "contract__project__customer_id"
    scope_branch = "contract__project__branch_id"

    class Meta:
        verbose_name = _("coverage period")
        verbose_name_plural = _("coverage periods")
        ordering = ["contract", "starts_on", "pk"]
        constraints = [
            models.CheckConstraint(name="period_ends_after_start", condition=Q(ends_on__gte=F("starts_on"))),
            models.CheckConstraint(name="period_tier_known", condition=Q(response_tier__in=["", *ResponseTier.values])),
        ]
        indexes = [
            models.Index(fields=["ends_on"], name="period_ends_on"),  # reminders, "ending within N days"
            models.Index(fields=["contract", "ends_on"], name="period_contract_ends"),
        ]

    def __str__(self):
        return f"{self.starts_on:%Y-%m-%d} – {self.ends_on:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("contracts:contract_detail", args=[self.contract_id])


class CoverageReminder(models.Model):
    """A reminder 90, 30 or 7 days before a period ends, written BEFORE anything is sent: the unique keys make each
    fire exactly once, also with two workers. A contract period's key is (period, end date, offset), a warranty
    period's (device, kind, end date, offset): the end date in the key re-arms the reminders of a corrected end
    (GLPI #4571 never re-arms a sent alert), and a renewal, a new period, brings its own (GLPI #23084)."""

    period = models.ForeignKey(CoveragePeriod, models.CASCADE, null=True, blank=True, related_name="reminders")
    device = models.ForeignKey("assets.Device", models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=12, choices=CoverageKind)
    ends_on = models.DateField()
    offset = models.PositiveSmallIntegerField()
    fired_at = models.DateTimeField()
    claim = models.CharField(max_length=32)  # the run that wrote it: a run acts only on the rows it inserted

    class Meta:
        verbose_name = _("coverage reminder")
        verbose_name_plural = _("coverage reminders")
        ordering = ["-fired_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["period", "ends_on", "offset"], condition=Q(period__isnull=False),
                                    name="reminder_once_per_period"),
            models.UniqueConstraint(fields=["device", "kind", "ends_on", "offset"], condition=Q(device__isnull=False),
                                    name="reminder_once_per_warranty"),
            models.CheckConstraint(
                name="reminder_is_of_a_period_or_a_warranty",
                condition=Q(period__isnull=False, device__isnull=True, kind=CoverageKind.CONTRACT)
                | Q(period__isnull=True, device__isnull=False, kind__in=[k.value for k in WARRANTY_KINDS])),
            models.CheckConstraint(name="reminder_offset_known", condition=Q(offset__in=REMINDER_OFFSETS)),
        ]
        indexes = [models.Index(fields=["claim"], name="reminder_claim")]

    def __str__(self):
        return f"{self.kind} {self.ends_on:%Y-%m-%d} −{self.offset}"
