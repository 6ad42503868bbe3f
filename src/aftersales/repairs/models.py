"""REP-1 (issue 22 §2-§4): repair cases and their recorded steps, vendor RMA shipments, replacements that keep the
device's history, and spare units lent while a device is away (SRQ-5 contingency).

A case concerns one device. Its states and the steps between them are data (repairs/transitions.py); the verbs in
repairs/services.py are the only writers of these rows, and each step is a RepairStep line (who, when, from which
state to which), which is the case's audit."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel


class RepairState(models.TextChoices):
    DIAGNOSING = "diagnosing", _("Diagnosing")  # 诊断中
    REPAIRING = "repairing", _("Repairing on site")  # 现场维修中
    AWAITING_UNIT = "awaiting_unit", _("Waiting for a replacement unit")  # 待更换
    AT_VENDOR = "at_vendor", _("At the manufacturer (RMA)")  # 返厂维修中
    RETURNED = "returned", _("Back from the manufacturer")  # 已返回, 待重新安装
    FIXED = "fixed", _("Back in service, to be closed")  # 已恢复使用, 待结案
    CLOSED = "closed", pgettext_lazy("repair case", "Closed")  # 已结案
    CANCELLED = "cancelled", _("Cancelled")  # 已取消


ENDED_STATES = [RepairState.CLOSED, RepairState.CANCELLED]
OPEN_STATES = [state for state in RepairState if state not in ENDED_STATES]


class OpenedFrom(models.TextChoices):
    REQUEST = "request", _("Service request")
    DEVICE = "device", _("Device")
    INSPECTION = "inspection", _("Inspection finding")


class ReplacementSource(models.TextChoices):
    STOCK = "stock", _("From our stock")
    CUSTOMER = "customer", _("Supplied by the customer")
    VENDOR = "vendor", _("Supplied by the manufacturer")


class Verdict(models.TextChoices):
    """What the manufacturer did with a unit sent under RMA."""

    REPAIRED = "repaired", _("Repaired")
    REPLACED = "replaced", _("Replaced with another unit")
    REJECTED = "rejected", _("Rejected (returned unrepaired)")


class StepKind(models.TextChoices):
    """A line of a case's history: its opening, each transition (named as in transitions.TRANSITIONS), and the
    changes that are not transitions (RMA details, loans)."""

    OPENED = "opened", pgettext_lazy("repair step", "Opened")
    REPAIR_ON_SITE = "repair_on_site", _("Repair on site decided")
    FINISH_REPAIR = "finish_repair", _("Repaired on site")
    PLAN_REPLACEMENT = "plan_replacement", _("Replacement decided")
    REPLACE = "replace", _("Replaced with a new unit")
    SEND_TO_VENDOR = "send_to_vendor", _("Sent to the manufacturer")
    RETURN_FROM_VENDOR = "return_from_vendor", _("Back from the manufacturer")
    REINSTALL = "reinstall", _("Reinstalled")
    REDIAGNOSE = "rediagnose", _("Back to diagnosis")
    CLOSE = "close", pgettext_lazy("repair step", "Closed")
    CANCEL = "cancel", _("Cancelled")
    RMA_UPDATED = "rma_updated", _("RMA details changed")
    LOAN_LENT = "loan_lent", _("Spare unit lent")
    LOAN_RETURNED = "loan_returned", _("Spare unit returned")


class RepairCase(TimeStampedModel):
    """REP-1: the repair of one device, opened from a service request, from the device, or from an inspection
    finding (a free reference until inspections exist)."""

    device = models.ForeignKey("assets.Device", models.PROTECT, related_name="repair_cases", verbose_name=_("device"))
    # Copied from the device's project so lists scope and count without a join (like ServiceRequest).
    customer = models.ForeignKey("customers.Customer", models.PROTECT, related_name="+", editable=False,
                                 db_index=False, verbose_name=_("customer"))
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="+", editable=False, db_index=False,
                               verbose_name=_("branch"))
    service_request = models.ForeignKey("service.ServiceRequest", models.PROTECT, null=True, blank=True,
                                        related_name="repair_cases", verbose_name=_("service request"))
    finding_ref = models.CharField(_("inspection finding"), max_length=100, blank=True,
                                   help_text=_("The inspection finding that opened the case."))
    opened_from = models.CharField(_("opened from"), max_length=12, choices=OpenedFrom)
    fault = models.TextField(_("fault"))
    state = models.CharField(_("state"), max_length=14, choices=RepairState, default=RepairState.DIAGNOSING)
    replacement_source = models.CharField(_("replacement unit from"), max_length=10, choices=ReplacementSource,
                                          blank=True)
    replaced_by = models.ForeignKey("assets.Device", models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("replaced by"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("opened by"))
    opened_at = models.DateTimeField(_("opened at"))
    ended_at = models.DateTimeField(_("closed or cancelled at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("repair case")
        verbose_name_plural = _("repair cases")
        ordering = ["-pk"]
        permissions = [
            ("work_repair", _("Can open and work on repair cases")),
            ("ship_rma", _("Can send units to the manufacturer and receive them back (RMA)")),
            ("lend_unit", _("Can lend spare units and take them back")),
        ]
        constraints = [
            models.CheckConstraint(name="repair_state_known", condition=Q(state__in=RepairState.values)),
            models.CheckConstraint(name="repair_opened_from_known", condition=Q(opened_from__in=OpenedFrom.values)),
            models.CheckConstraint(name="repair_ended_has_time",
                                   condition=Q(state__in=OPEN_STATES) | Q(ended_at__isnull=False)),
            models.CheckConstraint(name="repair_from_request_names_it",
                                   condition=~Q(opened_from=OpenedFrom.REQUEST) | Q(service_request__isnull=False)),
            # One device, one open repair: a second case of the same device is refused by the database.
            models.UniqueConstraint(fields=["device"], condition=Q(state__in=OPEN_STATES), name="one_open_repair_per_device",
                                    violation_error_message=_("This device has an open repair case already.")),
        ]
        indexes = [
            models.Index(fields=["branch", "state"], name="repair_branch_state"),
            models.Index(fields=["customer", "state"], name="repair_customer_state"),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"RP{self.pk:06d}" if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def get_absolute_url(self):
        return reverse("repairs:case_detail", args=[self.pk])


class RepairStep(models.Model):
    """Append-only: one line per step of a case (who, when, from which state to which); actor None is the system."""

    case = models.ForeignKey(RepairCase, models.CASCADE, related_name="steps", db_index=False)
    kind = models.CharField(_("repair step"), max_length=20, choices=StepKind)
    from_state = models.CharField(_("state before"), max_length=14, choices=RepairState, blank=True)
    to_state = models.CharField(_("state after"), max_length=14, choices=RepairState, blank=True)
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("done by"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    correlation_id = models.CharField(max_length=255, null=True, blank=True)

    scope_customer = "case__customer_id"
    scope_branch = "case__branch_id"

    class Meta:
        verbose_name = _("repair step")
        verbose_name_plural = _("repair steps")
        ordering = ["case_id", "at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="repair_step_case_at")]

    def __str__(self):
        return f"{self.case_id} {self.kind}"


class VendorRma(TimeStampedModel):
    """A unit sent to its manufacturer for repair (返厂, RMA): the shipment there and back, and the verdict."""

    case = models.ForeignKey(RepairCase, models.PROTECT, related_name="rmas", verbose_name=_("repair case"))
    rma_number = models.CharField(_("RMA number"), max_length=60)
    manufacturer = models.ForeignKey("assets.Manufacturer", models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("manufacturer"))
    vendor_name = models.CharField(_("vendor"), max_length=120, blank=True,
                                   help_text=_("When the vendor is not a manufacturer in the registry."))
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    sent_on = models.DateField(_("sent on"))
    expected_back_on = models.DateField(_("expected back on"), null=True, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    verdict = models.CharField(_("manufacturer's verdict"), max_length=10, choices=Verdict, blank=True)
    returned_serial = models.CharField(_("serial number of the unit sent back"), max_length=100, blank=True)
    vendor_report = models.TextField(_("manufacturer's report"), blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("sent by"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("received by"))

    scope_customer = "case__customer_id"
    scope_branch = "case__branch_id"

    class Meta:
        verbose_name = _("vendor RMA")
        verbose_name_plural = _("vendor RMAs")
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(name="rma_vendor_named", condition=Q(manufacturer__isnull=False) | ~Q(vendor_name="")),
            models.CheckConstraint(name="rma_number_not_blank", condition=~Q(rma_number="")),
            models.CheckConstraint(name="rma_verdict_known", condition=Q(verdict="") | Q(verdict__in=Verdict.values)),
            models.CheckConstraint(name="rma_returned_has_verdict",
                                   condition=Q(returned_on__isnull=True, verdict="")
                                   | Q(returned_on__isnull=False) & ~Q(verdict="")),
            models.CheckConstraint(name="rma_replaced_has_serial",
                                   condition=~Q(verdict=Verdict.REPLACED) | ~Q(returned_serial="")),
            models.CheckConstraint(name="rma_back_after_sent",
                                   condition=Q(returned_on__isnull=True) | Q(returned_on__gte=F("sent_on"))),
            models.CheckConstraint(name="rma_expected_after_sent",
                                   condition=Q(expected_back_on__isnull=True) | Q(expected_back_on__gte=F("sent_on"))),
            models.UniqueConstraint(fields=["case"], condition=Q(returned_on__isnull=True), name="one_open_rma_per_case"),
        ]
        indexes = [models.Index(fields=["expected_back_on"], name="rma_in_flight",
                                condition=Q(returned_on__isnull=True))]

    def __str__(self):
        return f"RMA {self.rma_number}"

    @property
    def vendor(self) -> str:
        return self.manufacturer.name if self.manufacturer_id else self.vendor_name

    @property
    def in_flight(self) -> bool:
        return self.returned_on is None


class DeviceReplacement(models.Model):
    """§3: the device `old` was replaced by `new` in a repair case. A device is replaced once (unique old) and a
    replacement replaces one device (unique new); neither row is deleted, so the old device's history stays. The
    old device is retired by this row (assets.Device has no status of its own yet)."""

    old = models.OneToOneField("assets.Device", models.PROTECT, related_name="replacement_record",
                               verbose_name=_("replaced device"))
    new = models.OneToOneField("assets.Device", models.PROTECT, related_name="replaces_record",
                               verbose_name=_("replacement"))
    case = models.ForeignKey(RepairCase, models.PROTECT, related_name="replacements", verbose_name=_("repair case"))
    source = models.CharField(_("replacement unit from"), max_length=10, choices=ReplacementSource)
    from_where = models.CharField(_("from where"), max_length=200, blank=True)
    at = models.DateTimeField(_("replaced at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                           verbose_name=_("recorded by"))

    scope_customer = "case__customer_id"
    scope_branch = "case__branch_id"

    class Meta:
        verbose_name = _("device replacement")
        verbose_name_plural = _("device replacements")
        ordering = ["-at", "-pk"]
        constraints = [models.CheckConstraint(name="replacement_is_another_device", condition=~Q(old=F("new")))]

    def __str__(self):
        return f"{self.old_id} → {self.new_id}"


class Loan(TimeStampedModel):
    """§4: a spare unit lent to the customer while their device is away (备用件应急), a child of the repair case.
    A unit is out on one open loan at most: a database constraint, whatever the pages and the API check first."""

    case = models.ForeignKey(RepairCase, models.PROTECT, related_name="loans", verbose_name=_("repair case"))
    unit_serial = models.CharField(_("serial number of the lent unit"), max_length=100,
                                   help_text=_("Stored in capitals without surrounding spaces."))
    unit_model = models.CharField(_("model of the lent unit"), max_length=100)
    lent_to = models.CharField(_("lent to"), max_length=100, blank=True,
                               help_text=_("Who received the unit at the customer's."))
    lent_at = models.DateTimeField(_("lent at"))
    due_back_on = models.DateField(_("due back on"))
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    lent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("lent by"))
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("taken back by"))
    note = models.TextField(_("note"), blank=True)
    return_note = models.TextField(_("note on return"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    scope_customer = "case__customer_id"
    scope_branch = "case__branch_id"

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["unit_serial"], condition=Q(returned_at__isnull=True),
                                    name="one_open_loan_per_unit",
                                    violation_error_message=_("This unit is out on another loan.")),
            models.CheckConstraint(name="loan_serial_not_blank", condition=~Q(unit_serial="")),
            models.CheckConstraint(name="loan_returned_after_lent",
                                   condition=Q(returned_at__isnull=True) | Q(returned_at__gte=F("lent_at"))),
        ]
        indexes = [models.Index(fields=["due_back_on"], name="loan_out_due", condition=Q(returned_at__isnull=True))]

    def __str__(self):
        return f"{self.unit_model} {self.unit_serial}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None

    def is_overdue(self, today) -> bool:
        return self.returned_at is None and self.due_back_on < today

    def get_absolute_url(self):
        return reverse("repairs:case_detail", args=[self.case_id]) + f"#loan-{self.pk}"
