"""CUS-3, CUS-4: the equipment registry and each device's warranty."""

import secrets

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel

from . import warranty


class DeviceCategory(TimeStampedModel):
    name = models.CharField(_("name"), max_length=60, unique=True)
    code = models.SlugField(_("code"), max_length=30, unique=True)

    class Meta:
        verbose_name = _("device category")
        verbose_name_plural = _("device categories")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Manufacturer(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("manufacturer")
        verbose_name_plural = _("manufacturers")
        ordering = ["name"]

    def __str__(self):
        return self.name


IN_SERVICE = Q(retired_at__isnull=True)  # a device not retired (issue 22 §3)


def new_label_code() -> str:
    return secrets.token_urlsafe(12)


class Device(TimeStampedModel):
    project = models.ForeignKey("customers.Project", models.PROTECT, related_name="devices", verbose_name=_("project"))
    category = models.ForeignKey(DeviceCategory, models.PROTECT, related_name="devices", verbose_name=_("category"))
    manufacturer = models.ForeignKey(
        Manufacturer, models.PROTECT, related_name="devices", verbose_name=_("manufacturer")
    )
    name = models.CharField(_("device name"), max_length=120)
    model = models.CharField(_("model"), max_length=100)
    serial_number = models.CharField(_("serial number"), max_length=100)
    location = models.CharField(_("location on site"), max_length=200, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    label_code = models.CharField(max_length=32, unique=True, default=new_label_code, editable=False)
    # CUS-4 overrides; empty means "from the project's defaults".
    warranty_start_override = models.DateField(_("warranty starts (override)"), null=True, blank=True)
    manufacturer_warranty_end_override = models.DateField(
        _("manufacturer warranty ends (override)"), null=True, blank=True
    )
    warranty_end_override = models.DateField(_("warranty ends (override)"), null=True, blank=True)
    # Derived and stored, so "in warranty on D" and "expiring within N days" are indexed queries.
    warranty_start = models.DateField(_("warranty starts"), null=True, editable=False)
    manufacturer_warranty_end = models.DateField(_("manufacturer warranty ends"), null=True, editable=False)
    warranty_end = models.DateField(_("warranty ends"), null=True, editable=False)
    # Issue 22 §3: a device taken out of service (replaced in a repair case) is retired, never deleted: its page, its
    # requests, repairs and coverage stay; lists, pickers, label sheets, counts, alarms and reminders leave it out.
    # Set by a verb (services.retire), never by a form.
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True, editable=False)
    replaced_by = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, editable=False, related_name="replaced_devices",
        verbose_name=_("replaced by"),
    )

    scope_customer = "project__customer_id"
    scope_branch = "project__branch_id"

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["project", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "serial_number"], name="device_serial_per_manufacturer"),
            models.CheckConstraint(name="device_serial_not_blank", condition=~Q(serial_number="")),
            models.CheckConstraint(name="device_replaced_only_when_retired",
                                   condition=Q(replaced_by__isnull=True) | Q(retired_at__isnull=False)),
        ]
        indexes = [
            # The warranty ranges (expiring lists, reminders, the home page's counts); with `retired_at`, counting the
            # devices in service among them reads this index alone.
            models.Index(fields=["warranty_end", "retired_at"], name="device_warranty_end_retired"),
            models.Index(fields=["project", "category"], name="device_project_category"),
            models.Index(fields=["serial_number"], name="device_serial"),
            # The devices in service, per project and category: what the lists, pickers, label sheets and counts read.
            # `retired_at` (always NULL here) is a column too, so SQLite counts a scope or a project from this index
            # alone, never the table (perf-floor.md: a partial index's condition column belongs in its columns).
            models.Index(fields=["project", "category", "retired_at"], condition=IN_SERVICE, name="device_in_service"),
            # The few retired devices, for the list's "retired" filter.
            models.Index(fields=["retired_at"], condition=Q(retired_at__isnull=False), name="device_retired"),
        ]

    def __str__(self):
        return f"{self.name} · {self.model} · {self.serial_number}"

    def get_absolute_url(self):
        return reverse("assets:device_detail", args=[self.pk])

    @property
    def in_service(self) -> bool:
        return self.retired_at is None

    def compute_warranty(self, project=None) -> warranty.WarrantyPeriods:
        project = project or self.project
        return warranty.periods(
            start=self.warranty_start_override or project.accepted_on,
            manufacturer_months=project.manufacturer_warranty_months,
            integrator_months=project.integrator_warranty_months,
            manufacturer_end_override=self.manufacturer_warranty_end_override,
            warranty_end_override=self.warranty_end_override,
        )

    def refresh_warranty(self, project=None) -> None:
        """Store the derived warranty dates (call before save)."""
        p = self.compute_warranty(project)
        self.warranty_start, self.manufacturer_warranty_end, self.warranty_end = (
            p.start, p.manufacturer_end, p.warranty_end
        )

    def save(self, *args, **kwargs):
        self.refresh_warranty()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "warranty_start", "manufacturer_warranty_end", "warranty_end"}
        super().save(*args, **kwargs)

    def warranty_status(self, on) -> warranty.WarrantyStatus:
        return warranty.status_on(
            warranty.WarrantyPeriods(self.warranty_start, self.manufacturer_warranty_end, self.warranty_end), on
        )
