"""REP-2: spare parts as a ledger.

A `Part` is a catalogue entry; a `Location` is a branch's warehouse or an engineer's van. Every change of stock is a
`Movement` row, written only by the verbs in services.py, stamped with the server's time and never edited or deleted:
a correction is a reversing row. What a location holds is a sum over its rows (selectors.py), never a stored counter
that could drift from them (Odoo's reserved quantity, odoo/odoo #62139; lesson 16).

Each movement row carries its effect on three sums at its (part, location):

- `on_hand_change`: good units physically there;
- `reserved_change`: units of those promised to a planned work order (reserved ≤ on hand, always);
- `defective_change`: faulty units kept there until they are sent back to the manufacturer (RMA).

A transfer is two rows, one at each end (see `MovementKind.TRANSFER_OUT`): every row is about exactly one (part,
location), so each sum is one index range over (location, part) and needs no OR over a "from" and a "to" column.

`StockSlot` is the one row per (part, location) that a verb locks before it reads the sums, so that writers of the same
part at the same location queue; it holds no quantity, only whether a low-stock alert is out.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.models import TimeStampedModel


class Unit(models.TextChoices):
    PIECE = "piece", _("piece")  # 个
    UNIT = "unit", _("unit (device)")  # 台
    SET = "set", _("set")  # 套
    METRE = "metre", _("metre")  # 米
    BOX = "box", _("box")  # 盒
    ROLL = "roll", _("roll")  # 卷


class Part(TimeStampedModel):
    """A spare part of the catalogue. Its purchase cost (CNY) is what a use of it costs: after warranty the customer
    pays that and nothing else for an original part ("更换原厂备件只收采购成本费")."""

    choice_label_fields = ("name", "part_number")  # the columns __str__ reads

    manufacturer = models.ForeignKey("assets.Manufacturer", models.PROTECT, related_name="parts",
                                     verbose_name=_("manufacturer"))
    part_number = models.CharField(_("model / part number"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit, default=Unit.PIECE)
    purchase_cost = models.DecimalField(_("purchase cost (CNY)"), max_digits=12, decimal_places=2,
                                        validators=[MinValueValidator(0)])
    serial_tracked = models.BooleanField(_("serial numbers tracked"), default=False,
                                         help_text=_("Each unit received, moved and used names its serial number."))
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("An inactive part can no longer be received, reserved, transferred or "
                                             "used; what is left of it can still be adjusted away or returned."))

    class Meta:
        verbose_name = _("spare part")
        verbose_name_plural = _("spare parts")
        ordering = ["name", "part_number"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "part_number"], name="part_number_once_per_maker",
                                    violation_error_message=_("This manufacturer already has a part with this number.")),
            models.CheckConstraint(name="part_cost_not_negative", condition=Q(purchase_cost__gte=0),
                                   violation_error_message=_("The purchase cost cannot be negative.")),
            models.CheckConstraint(name="part_unit_known", condition=Q(unit__in=Unit.values)),
        ]

    def __str__(self):
        return f"{self.name} {self.part_number}"

    def get_absolute_url(self):
        return reverse("parts:part_detail", args=[self.pk])


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")  # 仓库
    VAN = "van", _("Engineer's van")  # 工程师随车库存


class Location(TimeStampedModel):
    """Where stock lies: a branch's warehouse (one of them its main one) or one engineer's van."""

    choice_label_fields = ("name",)

    kind = models.CharField(_("kind"), max_length=10, choices=LocationKind)
    name = models.CharField(_("name"), max_length=100)
    branch = models.ForeignKey("accounts.Branch", models.PROTECT, related_name="stock_locations",
                               verbose_name=_("branch"))
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                 related_name="stock_locations", verbose_name=_("engineer"),
                                 help_text=_("The engineer whose van this is."))
    is_main = models.BooleanField(_("main warehouse"), default=False)
    active = models.BooleanField(_("active"), default=True)

    scope_customer = None  # customers see nothing of the stock
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["branch_id", "kind", "name"]
        constraints = [
            models.CheckConstraint(name="location_kind_known", condition=Q(kind__in=LocationKind.values)),
            models.CheckConstraint(
                name="location_van_has_engineer",
                condition=Q(kind=LocationKind.VAN, engineer__isnull=False, is_main=False)
                | Q(kind=LocationKind.WAREHOUSE, engineer__isnull=True),
                violation_error_message=_("A van belongs to one engineer; a warehouse to nobody.")),
            models.UniqueConstraint(fields=["engineer"], condition=Q(engineer__isnull=False), name="location_one_van_each",
                                    violation_error_message=_("This engineer already has a van.")),
            models.UniqueConstraint(fields=["branch"], condition=Q(kind=LocationKind.WAREHOUSE, is_main=True),
                                    name="location_one_main_warehouse",
                                    violation_error_message=_("This branch already has a main warehouse.")),
            models.UniqueConstraint(fields=["branch", "name"], name="location_name_once_per_branch",
                                    violation_error_message=_("This branch already has a location of this name.")),
        ]

    def __str__(self):
        return self.name

    @property
    def is_van(self) -> bool:
        return self.kind == LocationKind.VAN


class StockLevel(TimeStampedModel):
    """The minimum and the target a logistics clerk sets for a part at a location (settings, not stock): below the
    minimum one alert asks to order up to the target."""

    part = models.ForeignKey(Part, models.PROTECT, related_name="levels", verbose_name=_("part"))
    location = models.ForeignKey(Location, models.PROTECT, related_name="levels", verbose_name=_("location"))
    minimum = models.PositiveIntegerField(_("minimum"))
    target = models.PositiveIntegerField(_("target"))

    scope_customer = None
    scope_branch = "location__branch_id"

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["location", "part"], name="stocklevel_once_per_place"),
            models.CheckConstraint(name="stocklevel_target_at_least_minimum", condition=Q(target__gte=F("minimum")),
                                   violation_error_message=_("The target cannot be below the minimum.")),
        ]

    def __str__(self):
        return f"{self.part} @ {self.location}: {self.minimum}–{self.target}"


class StockSlot(models.Model):
    """One per (part, location) that has ever had a movement or a level: the row a verb locks (select_for_update)
    before it reads the sums, and the low-stock alert's state. It holds no quantity: `low` says an alert went out
    for the current crossing below the minimum; it is set by a conditional UPDATE (so two movements cannot both
    alert) and cleared when the level is back at the minimum, which re-arms the alert."""

    part = models.ForeignKey(Part, models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, models.PROTECT, related_name="slots")
    low = models.BooleanField(_("low-stock alert out"), default=False)
    low_since = models.DateTimeField(_("low since"), null=True, blank=True)

    scope_customer = None
    scope_branch = "location__branch_id"

    class Meta:
        verbose_name = _("stock slot")
        verbose_name_plural = _("stock slots")
        default_permissions = ("view",)
        constraints = [models.UniqueConstraint(fields=["location", "part"], name="stockslot_once_per_place")]

    def __str__(self):
        return f"{self.part} @ {self.location}"

    def get_absolute_url(self):
        return f"{reverse('parts:stock')}?location={self.location_id}&part={self.part_id}"


class MovementKind(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("stock movement", "Received")  # 入库 (supplier, manufacturer)
    TRANSFER_OUT = "transfer_out", pgettext_lazy("stock movement", "Transferred out")  # 调出: at the source
    TRANSFER_IN = "transfer_in", pgettext_lazy("stock movement", "Transferred in")  # 调入: names the first row
    RESERVED = "reserved", pgettext_lazy("stock movement", "Reserved")  # 预留 for a planned work order
    RELEASED = "released", pgettext_lazy("stock movement", "Released")  # 释放 a reservation
    USED = "used", pgettext_lazy("stock movement", "Used")  # 使用 on a work order or a repair
    RETURNED_DEFECTIVE = "returned_defective", pgettext_lazy("stock movement", "Returned defective")  # 坏件退回
    SENT_TO_RMA = "sent_to_rma", pgettext_lazy("stock movement", "Sent to the manufacturer (RMA)")  # 返厂
    ADJUSTED = "adjusted", pgettext_lazy("stock movement", "Adjusted")  # 盘点调整, with a reason
    REVERSAL = "reversal", pgettext_lazy("stock movement", "Reversal")  # 冲正: undoes one row, with a reason


def _changes(on_hand, reserved, defective) -> Q:
    return Q(on_hand_change=on_hand, reserved_change=reserved, defective_change=defective)


QUANTITY = F("quantity")
# What each kind does to the three sums, as the database enforces it (a reversal negates the row it reverses).
KIND_CHANGES = {
    MovementKind.RECEIVED: _changes(QUANTITY, 0, 0),
    MovementKind.TRANSFER_OUT: _changes(-QUANTITY, 0, 0),
    MovementKind.TRANSFER_IN: _changes(QUANTITY, 0, 0) & Q(pair__isnull=False),
    MovementKind.RESERVED: _changes(0, QUANTITY, 0),
    MovementKind.RELEASED: _changes(0, -QUANTITY, 0) & Q(reservation__isnull=False),
    MovementKind.USED: Q(on_hand_change=-QUANTITY, defective_change=0, reserved_change__lte=0,
                         reserved_change__gte=-QUANTITY),
    MovementKind.RETURNED_DEFECTIVE: (_changes(0, 0, QUANTITY) | _changes(-QUANTITY, 0, QUANTITY)),
    MovementKind.SENT_TO_RMA: _changes(0, 0, -QUANTITY),
    MovementKind.ADJUSTED: (_changes(QUANTITY, 0, 0) | _changes(-QUANTITY, 0, 0)) & ~Q(reason=""),
    MovementKind.REVERSAL: Q(reverses__isnull=False) & ~Q(reason=""),
}


def _kind_rule() -> Q:
    rule = Q()
    for kind, changes in KIND_CHANGES.items():
        rule |= Q(kind=kind) & changes
    return rule


class Movement(models.Model):
    """One row of the ledger (REP-2). Append-only: the verbs insert rows and nothing updates or deletes them; the
    admin shows them read-only. `at` is the server's clock at the insert (core.clock.now()), never a time a client
    sent, so nothing can be backdated (ERPNext's backdated entries drove stock negative, frappe/erpnext #51183)."""

    part = models.ForeignKey(Part, models.PROTECT, related_name="movements", verbose_name=_("part"))
    # no index of its own: the (location, part, …) index below starts with it
    location = models.ForeignKey(Location, models.PROTECT, related_name="movements", verbose_name=_("location"),
                                 db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind)
    quantity = models.PositiveIntegerField(_("quantity"))
    on_hand_change = models.IntegerField(_("change of on hand"))
    reserved_change = models.IntegerField(_("change of reserved"))
    defective_change = models.IntegerField(_("change of defective"))
    unit_cost = models.DecimalField(_("unit cost (CNY)"), max_digits=12, decimal_places=2)
    at = models.DateTimeField(_("time"), editable=False)
    # Nobody only for a reservation released because its request ended by a step nobody logged in took (an alarm's
    # recovery, a confirmation through a signed link): the constraint below.
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                           verbose_name=_("by"))
    work_order = models.ForeignKey("service.WorkOrder", models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("work order"))
    request = models.ForeignKey("service.ServiceRequest", models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("service request"))
    # A unit taken from stock to replace a device in a repair case (issue 22 §3).
    repair_case = models.ForeignKey("repairs.RepairCase", models.PROTECT, null=True, blank=True,
                                    related_name="part_movements", verbose_name=_("repair case"))
    # An RMA number, a supplier's delivery note, any other free reference.
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    serials = models.JSONField(_("serial numbers"), default=list, blank=True)
    pair = models.OneToOneField("self", models.PROTECT, null=True, blank=True, related_name="paired_with",
                                verbose_name=_("other end of the transfer"))
    reverses = models.OneToOneField("self", models.PROTECT, null=True, blank=True, related_name="reversed_by",
                                    verbose_name=_("reverses"))
    reservation = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="settlements",
                                    verbose_name=_("reservation"))

    scope_customer = None
    scope_branch = "location__branch_id"

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-pk"]
        default_permissions = ("view",)  # rows are added by the verbs only, never changed or deleted
        permissions = [
            ("manage_stock", _("Can receive, transfer, reserve, adjust and correct stock")),
            ("use_parts", _("Can use parts from their own van")),
        ]
        indexes = [
            # The sums: on hand, reserved and defective of (location, part) read from the index alone (covering).
            models.Index(fields=["location", "part", "on_hand_change", "reserved_change", "defective_change"],
                         name="parts_movement_sums"),
            models.Index(fields=["at"], name="parts_movement_at"),
        ]
        constraints = [
            models.CheckConstraint(name="movement_quantity_positive", condition=Q(quantity__gt=0)),
            models.CheckConstraint(name="movement_cost_not_negative", condition=Q(unit_cost__gte=0)),
            models.CheckConstraint(name="movement_kind_changes", condition=_kind_rule()),
            models.CheckConstraint(name="movement_reversal_only_reverses",
                                   condition=Q(kind=MovementKind.REVERSAL) | Q(reverses__isnull=True)),
            models.CheckConstraint(name="movement_by_unless_released",
                                   condition=Q(by__isnull=False) | Q(kind=MovementKind.RELEASED)),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} {self.part} × {self.quantity} @ {self.location}"

    def get_absolute_url(self):
        return reverse("parts:movement_detail", args=[self.pk])

    @property
    def total_cost(self):
        return self.unit_cost * self.quantity

    @property
    def signed_quantity(self) -> int:
        """The change as people read it in a list: what moved in or out of the location (reserved rows: the change of
        reserved)."""
        return self.on_hand_change or self.reserved_change or self.defective_change
