"""Reads of the equipment registry; all scoped by the caller."""

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet

from aftersales.core.clock import today

from .models import Device
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
    """Counts for the project page, in one query."""
    on = today()
    agg = Device.objects.filter(project=project).aggregate(
        total=Count("pk"),
        manufacturer=Count("pk", filter=warranty_state_q(WarrantyState.MANUFACTURER, on)),
        integrator=Count("pk", filter=warranty_state_q(WarrantyState.INTEGRATOR, on)),
        expired=Count("pk", filter=warranty_state_q(WarrantyState.EXPIRED, on)),
    )
    return agg
