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
