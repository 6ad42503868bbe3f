"""REP-2: the verbs of the spare-parts ledger, the only writers of `Movement` rows.

Each verb is one transaction that

1. checks who may do it where (logistics and administrators at the locations of their scope; an engineer at their
   own van), the part and the quantity;
2. locks the (part, location) slot, a row that holds no quantity (`select_for_update`; on SQLite the transaction's
   BEGIN IMMEDIATE already serialises writers), so that writers of the same part at the same location queue;
3. reads on hand, reserved and defective as SQL sums over the ledger *inside* that lock, and refuses a change that
   would leave on hand < reserved, reserved < 0 or defective < 0 (`OutOfStock`, HTTP 409, code `out_of_stock`);
4. inserts the movement row(s), stamped with the server's clock (never a time a client sent);
5. checks the low-stock level and, on a crossing below the minimum, enqueues one alert to the branch's logistics
   through the outbox (a conditional UPDATE of the slot's `low` flag decides that it is the first), all in the
   same transaction.

Nothing is ever updated or deleted: a correction is `reverse()`, a row with the opposite effect that names the row it
reverses. The lessons behind it: Odoo's reserved quantity is a stored number that drifts from the moves and is "fixed"
by wiping reservations (odoo/odoo #62139, #154905); ERPNext's background repost turned the negative-stock check off
(frappe/erpnext #57975). Here the sums are the truth, and every write checks them under the lock, with no path around
the check.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.scoping import BRANCH, EVERYTHING, scope_of
from aftersales.notify import services as notify

from .models import Location, Movement, MovementKind, Part, StockLevel, StockSlot

MANAGE = "parts.manage_stock"
USE = "parts.use_parts"
MAX_QUANTITY = 100_000  # one movement; more is a typing error
MAX_SERIAL_LENGTH = 60
LOW_STOCK_EVENT = "low_stock"


class OutOfStock(DomainError):
    """Not enough at the location: the stock is as it was."""

    status = 409
    code = "out_of_stock"


class WrongLocation(DomainError):
    """The user may not move stock at this location (another branch's, another engineer's van)."""

    status = 403
    code = "wrong_location"

    def __init__(self, message=None, *, field="location"):
        super().__init__(message or gettext_lazy("You may not move stock at this location."), field=field)


class InactivePart(DomainError):
    status = 409
    code = "inactive_part"

    def __init__(self, message=None, *, field="part"):
        super().__init__(message or gettext_lazy("This part is no longer active."), field=field)


@dataclass(frozen=True)
class Totals:
    """What a (part, location) holds: sums over its movement rows."""

    on_hand: int = 0
    reserved: int = 0
    defective: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def plus(self, on_hand: int = 0, reserved: int = 0, defective: int = 0) -> "Totals":
        return Totals(self.on_hand + on_hand, self.reserved + reserved, self.defective + defective)

    @property
    def holds(self) -> bool:
        """The ledger's invariant: on hand ≥ reserved ≥ 0, and defective ≥ 0."""
        return self.on_hand >= self.reserved >= 0 and self.defective >= 0


def totals(part, location) -> Totals:
    """On hand, reserved and defective of `part` at `location`: one aggregate over the (location, part) index."""
    row = Movement.objects.filter(location=location, part=part).aggregate(
        on_hand=Coalesce(Sum("on_hand_change"), 0), reserved=Coalesce(Sum("reserved_change"), 0),
        defective=Coalesce(Sum("defective_change"), 0))
    return Totals(row["on_hand"], row["reserved"], row["defective"])


def outstanding(reservation: Movement) -> int:
    """What is still reserved of a reservation: its own row and every release, use or reversal that settles it."""
    settled = Movement.objects.filter(reservation=reservation).aggregate(s=Coalesce(Sum("reserved_change"), 0))["s"]
    return reservation.reserved_change + settled


# ------------------------------------------------------------------------------------------ checks

def may_manage(user, location: Location) -> bool:
    """Logistics (and administrators) manage the stock of the locations in their scope."""
    if not user.has_perm(MANAGE):
        return False
    scope = scope_of(user)
    return scope.kind == EVERYTHING or (scope.kind == BRANCH and location.branch_id in scope.ids)


def may_use(user, location: Location) -> bool:
    """Who may take a part out of a location for a job: its manager, or the engineer whose van it is."""
    return may_manage(user, location) or (user.has_perm(USE) and location.engineer_id == user.pk)


def _require_manage(user, location: Location, field: str = "location") -> None:
    if not may_manage(user, location):
        raise WrongLocation(_("You may not move stock at {location}.").format(location=location), field=field)


def _require_use(user, location: Location) -> None:
    if not may_use(user, location):
        raise WrongLocation(_("You may use parts only from your own van, not from {location}.").format(
            location=location))


def _active(part: Part) -> None:
    if not part.active:
        raise InactivePart(_("{part} is no longer active.").format(part=part))


def _receiving(location: Location, field: str = "location") -> None:
    if not location.active:
        raise DomainError(_("{location} is closed: it receives nothing.").format(location=location), field=field)


def _quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise DomainError(_("The quantity must be a whole number greater than zero."), field="quantity")
    if quantity > MAX_QUANTITY:
        raise DomainError(_("At most {n} in one movement.").format(n=MAX_QUANTITY), field="quantity")
    return quantity


def _serials(part: Part, serials: Iterable[str] | None, quantity: int, *, required: bool = True) -> list[str]:
    """A serial-tracked part names one serial number per unit; another part names none."""
    cleaned = [str(s).strip() for s in (serials or []) if str(s).strip()]
    if not part.serial_tracked:
        if cleaned:
            raise DomainError(_("{part} is not tracked by serial number.").format(part=part), field="serials")
        return []
    if not cleaned and not required:
        return []
    if len(cleaned) != quantity:
        raise DomainError(_("Give one serial number per unit: {n} for a quantity of {q}.").format(
            n=len(cleaned), q=quantity), field="serials")
    if len(set(cleaned)) != len(cleaned):
        raise DomainError(_("A serial number is given twice."), field="serials")
    if any(len(s) > MAX_SERIAL_LENGTH for s in cleaned):
        raise DomainError(_("A serial number has at most {n} characters.").format(n=MAX_SERIAL_LENGTH),
                          field="serials")
    return cleaned


def _cost(value, part: Part) -> Decimal:
    if value is None or value == "":
        return part.purchase_cost
    try:
        cost = Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise DomainError(_("Give the unit cost in yuan, e.g. 120.50."), field="unit_cost") from None
    if cost < 0 or cost >= Decimal("1e10"):
        raise DomainError(_("The unit cost must be between 0 and 9,999,999,999.99 yuan."), field="unit_cost")
    return cost


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(_("Give the reason."), field="reason")
    return reason


def _short_of(part: Part, location: Location, available: int, wanted: int) -> OutOfStock:
    return OutOfStock(_("Out of stock: {available} {unit} of {part} available at {location}, {wanted} wanted.").format(
        available=max(available, 0), unit=part.get_unit_display(), part=part, location=location, wanted=wanted),
        field="quantity")


# ------------------------------------------------------------------------------------------ lock and write

def lock(part, location) -> StockSlot:
    """The (part, location) slot, locked until the transaction ends; made on first use (an insert that another
    transaction may win: then it waits for that one and locks its row)."""
    slot = StockSlot.objects.select_for_update().filter(part=part, location=location).first()
    if slot is None:
        StockSlot.objects.bulk_create([StockSlot(part_id=part.pk, location_id=location.pk)], ignore_conflicts=True)
        slot = StockSlot.objects.select_for_update().get(part=part, location=location)
    return slot


def _lock_in_order(part, *locations) -> list[StockSlot]:
    """Several slots of one part, always locked in the order of the locations' keys: two transfers in opposite
    directions cannot deadlock."""
    slots = {location.pk: lock(part, location) for location in sorted(locations, key=lambda loc: loc.pk)}
    return [slots[location.pk] for location in locations]


def _write(slot: StockSlot, before: Totals, *, part: Part, location: Location, kind: str, quantity: int, by,
           on_hand: int = 0, reserved: int = 0, defective: int = 0, unit_cost: Decimal, now, **fields) -> Movement:
    after = before.plus(on_hand, reserved, defective)
    if not after.holds:  # every verb checks its own case first, with its own message; this is the ledger's last word
        raise OutOfStock(_("This change would leave less than nothing at {location}.").format(location=location))
    movement = Movement.objects.create(
        part=part, location=location, kind=kind, quantity=quantity, on_hand_change=on_hand, reserved_change=reserved,
        defective_change=defective, unit_cost=unit_cost, at=now, by=by, **fields)
    _check_level(slot, after, part=part, location=location, movement=movement, now=now)
    return movement


# ------------------------------------------------------------------------------------------ the verbs

@transaction.atomic
def receive(*, part: Part, location: Location, quantity: int, by, unit_cost=None, supplier: str = "",
            reference: str = "", serials: Iterable[str] = ()) -> Movement:
    """Units arrive from a supplier (or back from the manufacturer) at `location`, at their unit cost (by default
    the catalogue's purchase cost)."""
    _require_manage(by, location)
    _active(part)
    _receiving(location)
    quantity = _quantity(quantity)
    serials = _serials(part, serials, quantity)
    cost = _cost(unit_cost, part)
    now = clock.now()
    slot = lock(part, location)
    return _write(slot, totals(part, location), part=part, location=location, kind=MovementKind.RECEIVED,
                  quantity=quantity, by=by, on_hand=quantity, unit_cost=cost, now=now, supplier=(supplier or "").strip(),
                  reference=(reference or "").strip(), serials=serials)


@transaction.atomic
def transfer(*, part: Part, source: Location, destination: Location, quantity: int, by, serials: Iterable[str] = (),
             reference: str = "") -> tuple[Movement, Movement]:
    """Units go from one location to another (warehouse → van, van → warehouse, warehouse → warehouse): two rows,
    one at each end, the second naming the first. Reserved units stay where they are."""
    if source.pk == destination.pk:
        raise DomainError(_("Choose two different locations."), field="destination")
    _require_manage(by, source, "source")
    _require_manage(by, destination, "destination")
    _active(part)
    _receiving(destination, "destination")
    quantity = _quantity(quantity)
    serials = _serials(part, serials, quantity)
    now = clock.now()
    source_slot, destination_slot = _lock_in_order(part, source, destination)
    before = totals(part, source)
    if before.available < quantity:
        raise _short_of(part, source, before.available, quantity)
    common = {"part": part, "quantity": quantity, "by": by, "unit_cost": part.purchase_cost, "now": now,
              "serials": serials, "reference": (reference or "").strip()}
    out = _write(source_slot, before, location=source, kind=MovementKind.TRANSFER_OUT, on_hand=-quantity, **common)
    into = _write(destination_slot, totals(part, destination), location=destination, kind=MovementKind.TRANSFER_IN,
                  on_hand=quantity, pair=out, **common)
    return out, into


@transaction.atomic
def reserve(*, part: Part, location: Location, quantity: int, by, work_order=None, request=None,
            reference: str = "") -> Movement:
    """Units are promised to a work order being planned: they stay on hand but are no longer available. The row
    returned is the reservation that `release` and `use_part` settle."""
    _require_manage(by, location)
    _active(part)
    quantity = _quantity(quantity)
    now = clock.now()
    slot = lock(part, location)
    before = totals(part, location)
    if before.available < quantity:
        raise _short_of(part, location, before.available, quantity)
    if work_order is not None and request is None:
        request = work_order.request
    return _write(slot, before, part=part, location=location, kind=MovementKind.RESERVED, quantity=quantity, by=by,
                  reserved=quantity, unit_cost=part.purchase_cost, now=now, work_order=work_order, request=request,
                  reference=(reference or "").strip())


def _reservation_of(reservation: Movement, part: Part | None = None, location: Location | None = None) -> Movement:
    if reservation.kind != MovementKind.RESERVED:
        raise DomainError(_("This movement is not a reservation."), field="reservation")
    if part is not None and reservation.part_id != part.pk or location is not None and \
            reservation.location_id != location.pk:
        raise DomainError(_("This reservation is for another part or location."), field="reservation")
    return reservation


def open_reservations(**filters):
    """Reservation rows with `left` (what is still reserved of each) above zero, oldest first."""
    return (Movement.objects.filter(kind=MovementKind.RESERVED, **filters)
            .annotate(left=F("reserved_change") + Coalesce(Sum("settlements__reserved_change"), 0))
            .filter(left__gt=0).order_by("pk"))


def reservation_for(part, location, request) -> Movement | None:
    return open_reservations(part=part, location=location, request=request).first()


def release_leftovers(*, request, by, reason: str) -> list[Movement]:
    """What is still reserved for `request` when it ends (closed or cancelled) is available again: one release row
    per open reservation, in the caller's transaction (the verb that ends the request), whoever took that step — a
    reservation never outlives its job (Odoo's reserved quantities drift from the moves, odoo/odoo #62139)."""
    now = clock.now()
    written = []
    for reservation in open_reservations(request=request).select_related("part", "location"):
        part, location = reservation.part, reservation.location
        slot = lock(part, location)
        left = outstanding(reservation)
        if left > 0:
            written.append(_write(
                slot, totals(part, location), part=part, location=location, kind=MovementKind.RELEASED, quantity=left,
                by=by if by is not None and by.is_authenticated else None, reserved=-left,
                unit_cost=reservation.unit_cost, now=now, reservation=reservation, work_order=reservation.work_order,
                request=request, reason=reason))
    return written


@transaction.atomic
def release(*, reservation: Movement, by, quantity: int | None = None, reason: str = "") -> Movement:
    """A reservation, or part of it, is given back: the units are available again."""
    _reservation_of(reservation)
    part, location = reservation.part, reservation.location
    _require_manage(by, location)
    now = clock.now()
    slot = lock(part, location)
    left = outstanding(reservation)
    quantity = left if quantity is None else _quantity(quantity)
    if left <= 0:
        raise IllegalTransition(_("Nothing is left of this reservation."))
    if quantity > left:
        raise DomainError(_("Only {n} of this reservation are left to release.").format(n=left), field="quantity")
    return _write(slot, totals(part, location), part=part, location=location, kind=MovementKind.RELEASED,
                  quantity=quantity, by=by, reserved=-quantity, unit_cost=reservation.unit_cost, now=now,
                  reservation=reservation, work_order=reservation.work_order, request=reservation.request,
                  reason=_reason(reason, required=False))


@transaction.atomic
def use_part(*, part: Part, location: Location, quantity: int, by, work_order=None, request=None,
             reservation: Movement | None = None, serials: Iterable[str] = (), reference: str = "",
             repair_case=None) -> Movement:
    """An engineer (or logistics, for a repair on the bench) uses units from `location` on a job: one row, whose
    `unit_cost` is the part's purchase cost at this moment. That cost is what the billing rule charges after
    warranty ("更换原厂备件只收采购成本费") and what the integrator's own warranty cost counts.

    With `reservation`, the units come out of it first (up to what is left of it), then out of what is available;
    without, out of the oldest reservation still open for the same request, part and location when there is one:
    the units set aside for a planned job are the ones the job uses.
    With `repair_case`, the row names the repair case the units replaced a device in (issue 22 §3)."""
    _require_use(by, location)
    _active(part)
    quantity = _quantity(quantity)
    serials = _serials(part, serials, quantity)
    if reservation is not None:
        _reservation_of(reservation, part, location)
    now = clock.now()
    slot = lock(part, location)
    if reservation is None and (request is not None or work_order is not None):
        reservation = reservation_for(part, location, request or work_order.request)  # what was set aside for the job
    before = totals(part, location)
    consumed = min(quantity, outstanding(reservation)) if reservation is not None else 0
    if before.available + consumed < quantity:
        raise _short_of(part, location, before.available + consumed, quantity)
    if reservation is not None:
        work_order = work_order or reservation.work_order
        request = request or reservation.request
    if work_order is not None and request is None:
        request = work_order.request
    return _write(slot, before, part=part, location=location, kind=MovementKind.USED, quantity=quantity, by=by,
                  on_hand=-quantity, reserved=-consumed, unit_cost=part.purchase_cost, now=now, work_order=work_order,
                  request=request, reservation=reservation, serials=serials, reference=(reference or "").strip(),
                  repair_case=repair_case)


@transaction.atomic
def return_defective(*, part: Part, location: Location, quantity: int, by, from_stock: bool = False,
                     work_order=None, request=None, reference: str = "", reason: str = "",
                     serials: Iterable[str] = ()) -> Movement:
    """A faulty unit is kept at `location` until it goes back to the manufacturer: one removed from a customer's
    device (it was never in our stock), or, with `from_stock`, one of the location's own good units found faulty
    (dead on arrival), which leaves the good stock."""
    _require_use(by, location)
    quantity = _quantity(quantity)
    serials = _serials(part, serials, quantity, required=from_stock)
    now = clock.now()
    slot = lock(part, location)
    before = totals(part, location)
    if from_stock and before.available < quantity:
        raise _short_of(part, location, before.available, quantity)
    if work_order is not None and request is None:
        request = work_order.request
    return _write(slot, before, part=part, location=location, kind=MovementKind.RETURNED_DEFECTIVE, quantity=quantity,
                  by=by, on_hand=-quantity if from_stock else 0, defective=quantity, unit_cost=part.purchase_cost,
                  now=now, work_order=work_order, request=request, reference=(reference or "").strip(),
                  reason=_reason(reason, required=False), serials=serials)


@transaction.atomic
def send_to_rma(*, part: Part, location: Location, quantity: int, by, reference: str = "", reason: str = "",
                serials: Iterable[str] = ()) -> Movement:
    """Defective units leave for the manufacturer (vendor RMA); `reference` is the RMA number. What comes back is
    received again."""
    _require_manage(by, location)
    quantity = _quantity(quantity)
    serials = _serials(part, serials, quantity, required=False)
    now = clock.now()
    slot = lock(part, location)
    before = totals(part, location)
    if before.defective < quantity:
        raise OutOfStock(_("Only {n} defective {unit} of {part} at {location}.").format(
            n=before.defective, unit=part.get_unit_display(), part=part, location=location), field="quantity")
    return _write(slot, before, part=part, location=location, kind=MovementKind.SENT_TO_RMA, quantity=quantity, by=by,
                  defective=-quantity, unit_cost=part.purchase_cost, now=now, reference=(reference or "").strip(),
                  reason=_reason(reason, required=False), serials=serials)


@transaction.atomic
def adjust(*, part: Part, location: Location, change: int, reason: str, by) -> Movement:
    """A stock take found more (`change` > 0) or fewer (< 0) good units than the ledger says. Units promised to work
    orders cannot be adjusted away: release them first."""
    _require_manage(by, location)
    if isinstance(change, bool) or not isinstance(change, int) or change == 0:
        raise DomainError(_("The change must be a whole number other than zero."), field="change")
    if abs(change) > MAX_QUANTITY:
        raise DomainError(_("At most {n} in one movement.").format(n=MAX_QUANTITY), field="change")
    reason = _reason(reason, required=True)
    now = clock.now()
    slot = lock(part, location)
    before = totals(part, location)
    if before.on_hand + change < before.reserved:
        raise OutOfStock(_("Only {n} {unit} of {part} at {location} are not reserved.").format(
            n=max(before.available, 0), unit=part.get_unit_display(), part=part, location=location), field="change")
    return _write(slot, before, part=part, location=location, kind=MovementKind.ADJUSTED, quantity=abs(change), by=by,
                  on_hand=change, unit_cost=part.purchase_cost, now=now, reason=reason)


NOT_REVERSIBLE = {
    MovementKind.REVERSAL: gettext_lazy("A reversal is not reversed: record the movement again instead."),
    MovementKind.RESERVED: gettext_lazy("Release the reservation instead."),
    MovementKind.RELEASED: gettext_lazy("Reserve again instead."),
}


@transaction.atomic
def reverse(*, movement: Movement, by, reason: str) -> list[Movement]:
    """The correction of a mistaken row: a new row with the opposite effect that names it (`reverses`). Both ends of
    a transfer are reversed together. Refused when the stock the row brought is gone meanwhile (used, moved on)."""
    reason = _reason(reason, required=True)
    if movement.kind in NOT_REVERSIBLE:
        raise IllegalTransition(NOT_REVERSIBLE[movement.kind])
    rows = [movement]
    if movement.kind == MovementKind.TRANSFER_IN:
        rows = [movement.pair, movement]
    elif movement.kind == MovementKind.TRANSFER_OUT:
        rows = [movement, Movement.objects.select_related("location").get(pair=movement)]
    for row in rows:
        _require_manage(by, row.location)
    part = movement.part
    now = clock.now()
    slots = _lock_in_order(part, *(row.location for row in rows))
    if Movement.objects.filter(reverses__in=[row.pk for row in rows]).exists():
        raise IllegalTransition(_("This movement is already reversed."))
    written = []
    for row, slot in zip(rows, slots):
        before = totals(part, row.location)
        after = before.plus(-row.on_hand_change, -row.reserved_change, -row.defective_change)
        if not after.holds:
            raise OutOfStock(_("Cannot reverse: {location} no longer holds what this movement brought (on hand {on_hand}, "
                               "reserved {reserved}, defective {defective}).").format(
                location=row.location, on_hand=before.on_hand, reserved=before.reserved, defective=before.defective))
        written.append(_write(
            slot, before, part=part, location=row.location, kind=MovementKind.REVERSAL, quantity=row.quantity, by=by,
            on_hand=-row.on_hand_change, reserved=-row.reserved_change, defective=-row.defective_change,
            unit_cost=row.unit_cost, now=now, reverses=row, reservation=row.reservation, work_order=row.work_order,
            request=row.request, repair_case=row.repair_case, serials=row.serials, reason=reason))
    return written


@transaction.atomic
def set_level(*, part: Part, location: Location, minimum: int, target: int, by) -> StockLevel:
    """The minimum and target of a part at a location. A minimum above what is available alerts at once, like a
    movement would; a lower one re-arms the alert."""
    _require_manage(by, location)
    for name, value in (("minimum", minimum), ("target", target)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
            raise DomainError(_("Give a whole number from 0 to {n}.").format(n=MAX_QUANTITY), field=name)
    if target < minimum:
        raise DomainError(_("The target cannot be below the minimum."), field="target")
    slot = lock(part, location)
    level, _created = StockLevel.objects.update_or_create(part=part, location=location,
                                                          defaults={"minimum": minimum, "target": target})
    _check_level(slot, totals(part, location), part=part, location=location, movement=None, now=clock.now())
    return level


# ------------------------------------------------------------------------------------------ low stock

def _check_level(slot: StockSlot, after: Totals, *, part: Part, location: Location, movement: Movement | None,
                 now) -> None:
    """One alert per crossing below the minimum, re-armed once the available stock is back at the minimum. The slot
    is locked, and the flag changes by a conditional UPDATE all the same: only the writer that flips it alerts."""
    level = StockLevel.objects.filter(part=part, location=location).values("minimum", "target").first()
    if level is not None and after.available < level["minimum"]:
        if slot.low or not StockSlot.objects.filter(pk=slot.pk, low=False).update(low=True, low_since=now):
            return
        slot.low, slot.low_since = True, now
        _alert(slot, after, part=part, location=location, minimum=level["minimum"], target=level["target"],
               movement=movement, now=now)
    elif slot.low and StockSlot.objects.filter(pk=slot.pk, low=True).update(low=False, low_since=None):
        slot.low, slot.low_since = False, None


def logistics_of(branch_id) -> list:
    """The logistics staff (后勤保障) of a branch: who orders parts."""
    return list(get_user_model().objects.filter(
        Q(groups__name=roles.LOGISTICS) | Q(position=Position.LOGISTICS), branch_id=branch_id, is_active=True,
        customer__isnull=True).distinct().order_by("pk"))


def _alert(slot: StockSlot, after: Totals, *, part: Part, location: Location, minimum: int, target: int,
           movement: Movement | None, now) -> None:
    to_order = target - after.available
    subject = _("Low stock: {part} at {location}").format(part=part, location=location)
    body = _("{part} at {location} is below its minimum.\n"
             "On hand: {on_hand}\nReserved: {reserved}\nAvailable: {available}\nMinimum: {minimum}\nTarget: {target}\n"
             "To order: {to_order} {unit}").format(
        part=part, location=location, on_hand=after.on_hand, reserved=after.reserved, available=after.available,
        minimum=minimum, target=target, to_order=to_order, unit=part.get_unit_display())
    stamp = movement.pk if movement is not None else f"level-{now.timestamp():.6f}"
    notify.enqueue(event=LOW_STOCK_EVENT, about=slot, subject=subject, body=body,
                   dedupe_key=f"parts-low-{slot.pk}-{stamp}", recipients=logistics_of(location.branch_id),
                   payload={"part": part.pk, "location": location.pk, "on_hand": after.on_hand,
                            "reserved": after.reserved, "available": after.available, "minimum": minimum,
                            "target": target, "to_order": to_order})
