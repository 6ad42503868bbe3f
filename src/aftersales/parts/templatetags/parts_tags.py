from django import template

from ..models import MovementKind

register = template.Library()

KIND_BADGES = {MovementKind.RECEIVED: "success", MovementKind.TRANSFER_IN: "success", MovementKind.USED: "primary",
               MovementKind.TRANSFER_OUT: "secondary", MovementKind.RESERVED: "warning",
               MovementKind.RELEASED: "light", MovementKind.RETURNED_DEFECTIVE: "danger",
               MovementKind.SENT_TO_RMA: "dark", MovementKind.ADJUSTED: "info", MovementKind.REVERSAL: "danger"}


@register.filter
def kind_badge(kind: str) -> str:
    """The Bootstrap colour of a movement kind's badge."""
    return KIND_BADGES.get(kind, "secondary")


@register.filter
def signed(value) -> str:
    """+3 / −2 / 0, as a change is read in a ledger."""
    if not value:
        return "0"
    return f"+{value}" if value > 0 else f"−{-value}"


@register.inclusion_tag("parts/_request_reservations.html", takes_context=True)
def request_reservations(context, service_request):
    """REP-2: the parts set aside for a request and still reserved, and a way to reserve more (logistics)."""
    from ..models import Movement, MovementKind
    from ..services import MANAGE, open_reservations

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.customer_id or not user.has_perm("parts.view_movement"):
        return {"shown": False}
    # Most requests never had a reservation: a plain read answers them (the sums' query costs more to build than to
    # run, bench/NOTES.md); only a request with reservations reads what is left of each.
    ids = list(Movement.objects.filter(request=service_request, kind=MovementKind.RESERVED).values_list("pk", flat=True))
    reservations = list(open_reservations(pk__in=ids).select_related("part", "location")) if ids else []
    return {"shown": True, "service_request": service_request, "reservations": reservations,
            "can_reserve": user.has_perm(MANAGE) and service_request.is_open}
