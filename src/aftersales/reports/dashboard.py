"""The home page's figures, scoped to the user."""

from datetime import timedelta

from aftersales.assets.models import Device
from aftersales.customers.models import Customer, Project

from aftersales.core.clock import today
from aftersales.core.scoping import visible

EXPIRY_WINDOW_DAYS = 90


def summary(user) -> dict:
    from aftersales.service.calendar_store import missing_years

    day = today()
    devices = visible(Device.objects.all(), user)
    return {
        "customer_count": visible(Customer.objects.all(), user).count(),
        "project_count": visible(Project.objects.all(), user).count(),
        "device_count": devices.count(),
        "in_warranty_count": devices.filter(warranty_end__gte=day).count(),
        "expiring_count": devices.filter(warranty_end__gte=day, warranty_end__lte=day + timedelta(days=EXPIRY_WINDOW_DAYS)).count(),
        "expiry_window_days": EXPIRY_WINDOW_DAYS,
        # lessons.md #2: from October, administrators are told which holiday year to fill in.
        "missing_holiday_years": missing_years(day) if user.is_superuser else [],
    }
