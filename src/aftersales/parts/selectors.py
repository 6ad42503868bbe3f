"""REP-2: reads of the stock. Every quantity here is a SQL sum over the ledger, computed in the query that lists it
(a correlated subquery per sum, each one range of the (location, part, …) covering index), never a stored number.
Every read goes through `visible()`: a branch's staff see their branch's locations, see-all roles everything,
customers nothing (Location.scope_customer is None)."""

from django.db.models import BooleanField, Case, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from aftersales.core.scoping import visible
from aftersales.service.models import OPEN_STATES, ServiceRequest

from .models import Location, LocationKind, Movement, StockLevel, StockSlot
from .services import may_use

MOVEMENT_PAGE = 50  # rows per page of the movements list (keyset: no COUNT over the ledger)


def _sum_of(field: str):
    rows = (Movement.objects.filter(location=OuterRef("location"), part=OuterRef("part")).order_by()
            .values("location").annotate(total=Sum(field)).values("total"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _level_of(field: str):
    return Subquery(StockLevel.objects.filter(location=OuterRef("location"), part=OuterRef("part"))
                    .values(field)[:1], output_field=IntegerField())


def with_totals(slots):
    """Slots with on_hand, reserved, defective, available, minimum, target (None without a level), to_order and
    is_low (available below the minimum)."""
    return (slots.annotate(on_hand=_sum_of("on_hand_change"), reserved=_sum_of("reserved_change"),
                           defective=_sum_of("defective_change"), minimum=_level_of("minimum"),
                           target=_level_of("target"))
            .annotate(available=F("on_hand") - F("reserved"))
            .annotate(is_low=Case(When(minimum__isnull=False, available__lt=F("minimum"), then=Value(True)),
                                  default=Value(False), output_field=BooleanField()),
                      to_order=Case(When(minimum__isnull=False, available__lt=F("minimum"),
                                         then=F("target") - F("available")), default=Value(0),
                                    output_field=IntegerField())))


def stock(user):
    """The stock per (part, location) the user may see, in the order of the stock page."""
    slots = (visible(StockSlot.objects.all(), user)
             .select_related("part__manufacturer", "location__branch", "location__engineer")
             .order_by("location__branch__name", "location__kind", "location__name", "part__name", "part_id"))
    return with_totals(slots)


def low_stock(user):
    """The (part, location)s whose available stock is below their minimum, most short first."""
    return stock(user).filter(is_low=True).order_by("-to_order", "location__name", "part__name", "part_id")


def locations(user, *, active_only: bool = False):
    queryset = visible(Location.objects.select_related("branch", "engineer"), user).order_by(
        "branch__name", "kind", "name", "pk")
    return queryset.filter(active=True) if active_only else queryset


def usable_locations(user):
    """The open locations the user may take parts out of (services.may_use): their own van, and for logistics the
    locations of their scope."""
    candidates = locations(user, active_only=True)
    return candidates.filter(pk__in=[location.pk for location in candidates if may_use(user, location)])


def van_of(user) -> Location | None:
    """The engineer's own van, if they have one."""
    return Location.objects.select_related("branch").filter(kind=LocationKind.VAN, engineer=user).first()


def van_contents(van: Location):
    """What is in a van: the parts it holds good or defective units of, or has a level for."""
    return (with_totals(StockSlot.objects.filter(location=van).select_related("part__manufacturer"))
            .filter(Q(on_hand__gt=0) | Q(defective__gt=0) | Q(minimum__isnull=False))
            .order_by("part__name", "part_id"))


def open_requests_of(engineer):
    """The requests an engineer works on now (assigned to them and open): what a part used from the van may be for."""
    return (visible(ServiceRequest.objects.all(), engineer).filter(assignee=engineer, state__in=OPEN_STATES)
            .only("pk", "number", "title").order_by("-pk"))


def movements(user):
    return (visible(Movement.objects.all(), user)
            .select_related("part", "location", "by", "request", "work_order")
            .order_by("-pk"))
