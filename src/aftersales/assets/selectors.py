"""Reads of the equipment registry; all scoped by the caller."""

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.clock import today

from .models import IN_SERVICE, Device
from .warranty import WarrantyState


def warranty_state_q(state: str, on: date) -> Q:
    """The devices in warranty `state` on date `on`, as an indexed condition on the stored dates."""
    started = Q(warranty_start__isnull=True) | Q(warranty_start__lte=on)
    return {
        WarrantyState.UNKNOWN: Q(warranty_end__isnull=True),
        WarrantyState.NOT_STARTED: Q(warranty_end__isnull=False, warranty_start__gt=on),
        WarrantyState.MANUFACTURER: started & Q(warranty_end__isnull=False, manufacturer_warranty_end__gte=on),
        WarrantyState.INTEGRATOR: started
        & Q(warranty_end__gte=on)
        & (Q(manufacturer_warranty_end__isnull=True) | Q(manufacturer_warranty_end__lt=on)),
        WarrantyState.EXPIRED: Q(warranty_end__lt=on),
    }[WarrantyState(state)]


def expiring(queryset: QuerySet, *, within_days: int, on: date | None = None) -> QuerySet:
    """Devices whose warranty ends within `within_days` days from `on` (today by default)."""
    on = on or today()
    return queryset.filter(warranty_end__gte=on, warranty_end__lte=on + timedelta(days=within_days)).order_by(
        "warranty_end", "pk"
    )


def project_device_summary(project) -> dict:
    """Counts for the project page, in one query: the devices in service (`total` and by warranty) and the retired
    ones (issue 22 §3: installed units are the devices in service)."""
    on = today()
    agg = Device.objects.filter(project=project).aggregate(
        total=Count("pk", filter=IN_SERVICE),
        manufacturer=Count("pk", filter=IN_SERVICE & warranty_state_q(WarrantyState.MANUFACTURER, on)),
        integrator=Count("pk", filter=IN_SERVICE & warranty_state_q(WarrantyState.INTEGRATOR, on)),
        expired=Count("pk", filter=IN_SERVICE & warranty_state_q(WarrantyState.EXPIRED, on)),
        retired=Count("pk", filter=~IN_SERVICE),
    )
    return agg


# ---------------------------------------------------------------------------------------------- retired devices

MAX_SUCCESSORS = 20  # replacements followed from a retired device to the one in service now (a guard, not a limit)


def in_service_successor(device: Device) -> Device | None:
    """The device in service now in the place of `device`: itself when in service, else the end of its chain of
    replacements (a unit replaced twice names the second replacement), or None when it was retired without one."""
    for _hop in range(MAX_SUCCESSORS):
        if device.retired_at is None:
            return device
        if device.replaced_by_id is None:
            return None
        device = Device.objects.only("pk", "name", "model", "serial_number", "retired_at", "replaced_by").get(
            pk=device.replaced_by_id)
    return None


def retired_message(device: Device) -> str:
    """Why a retired device cannot be chosen, naming the device that replaced it."""
    on = device.retired_at.astimezone(clock.SHANGHAI).date()
    successor = in_service_successor(device)
    if successor is None:
        return _("%(device)s was retired on %(date)s and is no longer in service.") % {
            "device": device, "date": on.isoformat()}
    return _("%(device)s was retired on %(date)s and replaced by %(replacement)s: choose the device in service.") % {
        "device": device, "date": on.isoformat(), "replacement": successor}


def retired_refusal(devices, *, allowed=()) -> str | None:
    """The refusal of a picker (request forms, contracts, monitoring) that was given a retired device, or None: each
    picker shows it on its own field (a form error; in the API a 400 naming the field). `allowed`: ids that may stay
    although retired (a contract's devices already listed: its coverage history)."""
    retired = [device for device in devices if device.retired_at is not None]
    if retired:
        allowed = set(allowed)  # read only when a retired device was given
        refused = next((device for device in retired if device.pk not in allowed), None)
        if refused is not None:
            return retired_message(refused)
    return None
