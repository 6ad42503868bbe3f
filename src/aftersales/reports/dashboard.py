"""The home page's figures, scoped to the user."""

from datetime import timedelta

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.assets.models import IN_SERVICE, Device
from aftersales.core import health, site
from aftersales.core.clock import today
from aftersales.core.scoping import visible
from aftersales.customers.models import Customer, Project

EXPIRY_WINDOW_DAYS = 90


def summary(user) -> dict:
    from aftersales.service.calendar_store import missing_years

    day = today()
    devices = visible(Device.objects.filter(IN_SERVICE), user)  # installed units: retired ones left out (issue 22 §3)
    return {
        "customer_count": visible(Customer.objects.all(), user).count(),
        "project_count": visible(Project.objects.all(), user).count(),
        "device_count": devices.count(),
        "in_warranty_count": devices.filter(warranty_end__gte=day).count(),
        "expiring_count": devices.filter(warranty_end__gte=day, warranty_end__lte=day + timedelta(days=EXPIRY_WINDOW_DAYS)).count(),
        "expiry_window_days": EXPIRY_WINDOW_DAYS,
        # lessons.md #2: from October, administrators are told which holiday year to fill in.
        "missing_holiday_years": missing_years(day) if user.is_superuser else [],
        # Issue 20: the checks of /health/ (core/health.py), for administrators only.
        "system_health": system_health() if user.is_superuser else None,
    }


def _duration(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = seconds // 60
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _detail(check) -> str:
    if check.name == "database":
        return _("answered in %(ms)s ms") % {"ms": check.value} if check.ok else _("not answering")
    if check.value is None:
        return {
            "outbox": _("no message waiting"),
            "deadlines": _("no check overdue"),
            "heartbeat": _("no heartbeat yet"),
        }[check.name]
    text = {
        "outbox": _("oldest due message waiting for %(age)s"),
        "deadlines": _("oldest check overdue by %(age)s"),
        "heartbeat": _("last beat %(age)s ago"),
    }[check.name]
    return text % {"age": _duration(check.value)}


def system_health() -> dict:
    checks = health.run_checks()
    return {
        "ok": all(check.ok for check in checks),
        "checks": [{"label": check.label, "ok": check.ok, "detail": _detail(check)} for check in checks],
        "loopback_site_url": site.loopback_site_url(),
    }
