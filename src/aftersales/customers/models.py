"""CUS-1, CUS-2: customers (业主), their projects (项目) and delivery milestones."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel


class Customer(TimeStampedModel):
    choice_label_fields = ("name",)  # the columns __str__ reads (filter choices load only these)
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    branch = models.ForeignKey(
        "accounts.Branch", models.PROTECT, related_name="customers", verbose_name=_("serving branch")
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    scope_customer = "pk"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        permissions = [("manage_contacts", _("Can manage a customer's contacts"))]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:customer_detail", args=[self.pk])


class Project(TimeStampedModel):
    choice_label_fields = ("name", "contract_number")  # the columns __str__ reads (filter choices load only these)
    customer = models.ForeignKey(Customer, models.PROTECT, related_name="projects", verbose_name=_("customer"))
    branch = models.ForeignKey(
        "accounts.Branch", models.PROTECT, related_name="projects", verbose_name=_("serving branch")
    )
    name = models.CharField(_("project name"), max_length=200)
    contract_number = models.CharField(_("contract number"), max_length=60, unique=True)
    site_address = models.CharField(_("site address"), max_length=255, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    contract_signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    service_starts_on = models.DateField(_("service starts on"), null=True, blank=True)
    service_ends_on = models.DateField(_("service ends on"), null=True, blank=True)
    manufacturer_warranty_months = models.PositiveSmallIntegerField(
        _("manufacturer warranty (months)"), default=24, validators=[MaxValueValidator(240)]
    )
    integrator_warranty_months = models.PositiveSmallIntegerField(
        _("integrator extended warranty (months)"), default=12, validators=[MaxValueValidator(240)]
    )
    accepted_on = models.DateField(
        _("accepted on"), null=True, blank=True, editable=False,
        help_text=_("Copied from the acceptance milestone; the warranty starts here."),
    )

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["customer", "name"], name="project_customer_name")]
        constraints = [
            models.CheckConstraint(
                name="project_service_dates_ordered",
                condition=Q(service_ends_on__isnull=True)
                | Q(service_starts_on__isnull=True)
                | Q(service_ends_on__gte=models.F("service_starts_on")),
            ),
            models.CheckConstraint(
                name="project_latitude_range", condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90)
            ),
            models.CheckConstraint(
                name="project_longitude_range",
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.contract_number})"

    def get_absolute_url(self):
        return reverse("customers:project_detail", args=[self.pk])


class MilestoneKind(models.TextChoices):
    ARRIVAL = "arrival", _("Equipment arrival")  # 到货
    INSTALLATION = "installation", _("Installation")  # 安装
    COMMISSIONING = "commissioning", _("Commissioning")  # 调试
    ACCEPTANCE = "acceptance", _("Acceptance")  # 验收


MILESTONE_ORDER = [k.value for k in MilestoneKind]


class Milestone(TimeStampedModel):
    """CUS-2: a delivery milestone with its contract deadline, extended by owner-caused delays."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="milestones", verbose_name=_("project"))
    kind = models.CharField(_("milestone"), max_length=20, choices=MilestoneKind)
    contract_deadline = models.DateField(_("contract deadline"))
    actual_date = models.DateField(_("actual date"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=255, blank=True, help_text=_("Where equipment arrives."))
    notes = models.TextField(_("notes"), blank=True)
    extension_days = models.PositiveIntegerField(_("days extended"), default=0, editable=False)

    scope_customer = "project__customer_id"
    scope_branch = "project__branch_id"

    class Meta:
        verbose_name = _("delivery milestone")
        verbose_name_plural = _("delivery milestones")
        ordering = ["project", "contract_deadline", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="milestone_once_per_project"),
            models.CheckConstraint(name="milestone_kind_known", condition=Q(kind__in=MilestoneKind.values)),
        ]

    def __str__(self):
        return f"{self.project.name} · {self.get_kind_display()}"

    @property
    def extended_deadline(self):
        """The deadline after owner-caused extensions (工期顺延)."""
        return self.contract_deadline + timedelta(days=self.extension_days)

    @property
    def is_late(self) -> bool:
        from aftersales.core.clock import today

        done_or_today = self.actual_date or today()
        return done_or_today > self.extended_deadline

    def get_absolute_url(self):
        return self.project.get_absolute_url()


class DeadlineExtension(TimeStampedModel):
    """CUS-2: a delay caused by the owner extends a milestone's deadline by `days`."""

    milestone = models.ForeignKey(Milestone, models.CASCADE, related_name="extensions", verbose_name=_("milestone"))
    days = models.PositiveIntegerField(_("days"), validators=[MinValueValidator(1), MaxValueValidator(3650)])
    reason = models.TextField(_("reason"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    scope_customer = "milestone__project__customer_id"
    scope_branch = "milestone__project__branch_id"

    class Meta:
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        ordering = ["milestone", "pk"]
        constraints = [models.CheckConstraint(name="extension_days_positive", condition=Q(days__gte=1))]

    def __str__(self):
        return f"+{self.days}"
