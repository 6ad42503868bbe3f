"""SRQ-7, REP-2 (issue 22 §7): the catalogue parts a work order used, as rows of the spare-parts ledger.

A part line is one movement of kind "used" that names the work order: the part, the quantity, the serial numbers and
the location the units came from, at the part's purchase cost of that moment. The work-order verb writes the lines
through `parts.services.use_part`, inside its own transaction; pages and the API read them here, with one query for
all the work orders they show (the movement's foreign key to the work order has no reverse accessor to prefetch).

What is not in the catalogue stays free text on the work order: its parts note (`WorkOrder.parts_used`)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError
from aftersales.core.scoping import visible
from aftersales.parts import selectors as parts_selectors
from aftersales.parts import services as parts_services
from aftersales.parts.models import Location, Movement, MovementKind, Part

MAX_LINES = 20  # on one work order; the form offers FORM_ROWS of them
LINE_FIELDS = ("part", "quantity", "serials", "location")


@dataclass(frozen=True)
class PartLine:
    """One line as the engineer gives it. `location` None: the engineer's own van."""

    part: Part
    quantity: int
    serials: tuple[str, ...] = ()
    location: Location | None = None


def line_field(index: int, name: str | None) -> str:
    """How a refusal names the line it is about: `parts.<index>.<field>` (index in the list the verb was given)."""
    return f"parts.{index}.{name if name in LINE_FIELDS else 'part'}"


def parse_line_field(field: str | None) -> tuple[int, str] | None:
    """(index, field) of a `line_field` name; None for any other field."""
    prefix, _dot, rest = (field or "").partition(".")
    index, _dot, name = rest.partition(".")
    if prefix != "parts" or not index.isdigit() or name not in LINE_FIELDS:
        return None
    return int(index), name


def use_parts(lines: Sequence[PartLine], *, work_order, by) -> list[Movement]:
    """One "used" movement per line, in the lines' order, tied to `work_order`, in the caller's transaction (the
    work-order verb's): a line the ledger refuses (out of stock, a location `by` may not take from, an inactive part,
    serial numbers missing) raises its error with the line named in `field`, and the caller's transaction writes
    nothing at all."""
    if len(lines) > MAX_LINES:
        raise DomainError(_("At most {n} part lines on one work order.").format(n=MAX_LINES), field="parts")
    van = None
    placed = []
    for index, line in enumerate(lines):
        location = line.location
        if location is None:
            van = van or parts_selectors.van_of(by)
            if van is None:
                raise DomainError(_("You have no van: choose where the part comes from."),
                                  field=line_field(index, "location"))
            location = van
        placed.append((line, location))
    # Every slot first, in the order of (location, part) whatever the order of the lines: two work orders taking the
    # same parts cannot wait for each other (use_part locks its slot again, which its own transaction already holds).
    slots = {(location.pk, line.part.pk): (line.part, location) for line, location in placed}
    for key in sorted(slots):
        parts_services.lock(*slots[key])
    written = []
    for index, (line, location) in enumerate(placed):
        try:
            written.append(parts_services.use_part(part=line.part, location=location, quantity=line.quantity, by=by,
                                                   work_order=work_order, serials=line.serials))
        except DomainError as error:
            error.field = line_field(index, error.field)  # the same error (its status and code), about this line
            raise
    return written


def release_reserved(*, request, by) -> list[Movement]:
    """The request ends (closed or cancelled, in the verb's transaction): the parts still reserved for it and not
    used are available again, by release rows that say why (`parts.services.release_leftovers`)."""
    return parts_services.release_leftovers(request=request, by=by, reason=_(
        "The request ended: what was reserved for it and not used is available again."))


def lines_of(work_orders: Iterable) -> dict[int, list[Movement]]:
    """The part lines of each work order, oldest first, in one query; `corrected` says a line was reversed since."""
    ids = [work_order.pk for work_order in work_orders]
    if not ids:
        return {}
    rows = (Movement.objects.filter(work_order__in=ids, kind=MovementKind.USED)
            .select_related("part", "location")
            .annotate(corrected=Exists(Movement.objects.filter(reverses=OuterRef("pk"))))
            .order_by("pk"))
    lines = {pk: [] for pk in ids}
    for row in rows:
        lines[row.work_order_id].append(row)
    return lines


def attach(work_orders: Iterable) -> list:
    """Give each work order `part_lines` (what the templates and the API show), in one query for all of them, and
    its charge sheet `sheet`."""
    work_orders = list(work_orders)
    lines = lines_of(work_orders)
    for work_order in work_orders:
        work_order.part_lines = lines.get(work_order.pk, [])
    from aftersales.billing.services import attach as attach_sheets  # billing reads the service's models

    return attach_sheets(work_orders)  # and their charge sheets (CUS-5), two queries more


# ------------------------------------------------------------------------------------------ what the form offers

@dataclass(frozen=True)
class Offer:
    """What a user may put on a work order's part lines: the active parts (those in their van first, with how many
    are left there) and the locations `parts.services.may_use` lets them take from (their van first)."""

    parts: dict[int, Part]
    in_van: dict[int, int]  # part id → available in the user's van
    locations: dict[int, Location]
    van: Location | None


def offer_for(user) -> Offer:
    """Three queries: the catalogue's active parts, the candidate locations, the van's stock."""
    parts = {part.pk: part for part in Part.objects.filter(active=True).select_related("manufacturer")
             .order_by("name", "part_number", "pk")}
    candidates = (Location.objects.filter(Q(engineer=user) | Q(pk__in=visible(Location.objects.all(), user).values("pk")),
                                          active=True)
                  .select_related("branch").order_by("branch__name", "kind", "name", "pk"))
    usable = [location for location in candidates if parts_services.may_use(user, location)]
    van = next((location for location in usable if location.engineer_id == user.pk), None)
    locations = {location.pk: location for location in ([van] if van else []) + [loc for loc in usable if loc != van]}
    in_van = {}
    if van is not None:
        in_van = {row.part_id: row.available for row in parts_selectors.van_contents(van)
                  if row.available > 0 and row.part_id in parts}
    return Offer(parts=parts, in_van=in_van, locations=locations, van=van)
