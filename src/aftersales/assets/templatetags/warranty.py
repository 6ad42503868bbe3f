from django import template
from django.utils.translation import gettext_lazy as _

from aftersales.assets.warranty import WarrantyState

register = template.Library()

LABELS = {
    WarrantyState.MANUFACTURER: _("Manufacturer warranty"),
    WarrantyState.INTEGRATOR: _("Integrator extended warranty"),
    WarrantyState.EXPIRED: _("Out of warranty"),
    WarrantyState.NOT_STARTED: _("Warranty not started"),
    WarrantyState.UNKNOWN: _("Warranty unknown"),
}


@register.inclusion_tag("assets/_warranty_badge.html")
def warranty_badge(device, on):
    status = device.warranty_status(on)
    return {"state": status.state.value, "label": LABELS[status.state], "status": status}
