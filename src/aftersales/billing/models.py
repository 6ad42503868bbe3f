"""CUS-5: the charge sheet of a work order or of a repair case as it was issued — written by billing/services.py when
the work order is submitted or the repaired device is back in service, from the billing rule (billing/rule.py), and
shown with the work order the customer confirms or on the repair case. Stored, not recomputed on reading: a coverage
period corrected later does not change a sheet the customer has seen."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .rule import Basis, LineKind


class ChargeSheet(models.Model):
    # A sheet is of one work order or of one repair case (the constraint below), never both.
    work_order = models.OneToOneField("service.WorkOrder", models.PROTECT, null=True, blank=True,
                                      related_name="charge_sheet", verbose_name=_("work order"))
    repair_case = models.OneToOneField("repairs.RepairCase", models.PROTECT, null=True, blank=True,
                                       related_name="charge_sheet", verbose_name=_("repair case"))
    fault_day = models.DateField(_("day of the fault"))
    device = models.ForeignKey("assets.Device", models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("device whose coverage applies"))
    coverage = models.CharField(_("coverage on the day of the fault"), max_length=300, blank=True)
    customer_total = models.DecimalField(_("the customer pays (CNY)"), max_digits=12, decimal_places=2)
    integrator_total = models.DecimalField(_("our cost (CNY)"), max_digits=12, decimal_places=2)
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("charge sheet")
        verbose_name_plural = _("charge sheets")
        permissions = [("approve_exception", _("Can approve an exception on a charge sheet"))]
        constraints = [models.CheckConstraint(
            name="charge_sheet_of_one_job",
            condition=Q(work_order__isnull=False, repair_case__isnull=True)
            | Q(work_order__isnull=True, repair_case__isnull=False))]

    def __str__(self):
        return f"{self.work_order_id or self.repair_case_id}: {self.customer_total}"


class ChargeLine(models.Model):
    sheet = models.ForeignKey(ChargeSheet, models.CASCADE, related_name="lines", verbose_name=_("charge sheet"))
    kind = models.CharField(_("kind"), max_length=10, choices=[(k.value, k.value) for k in LineKind])
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    customer_amount = models.DecimalField(_("the customer pays (CNY)"), max_digits=12, decimal_places=2)
    integrator_cost = models.DecimalField(_("our cost (CNY)"), max_digits=12, decimal_places=2)
    covered = models.BooleanField(_("covered"))
    basis = models.CharField(_("basis"), max_length=20, choices=[(b.value, b.value) for b in Basis])
    movement = models.ForeignKey("parts.Movement", models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("stock movement"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("charge line")
        verbose_name_plural = _("charge lines")
        ordering = ["sheet", "pk"]
        constraints = [models.CheckConstraint(name="charge_line_cost_not_negative", condition=Q(integrator_cost__gte=0))]
