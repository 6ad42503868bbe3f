"""Device label codes (issue 11 §2): which device a code names, the absolute scan URL a label's QR code holds, the
QR code itself, the devices of a project's label sheet, and whether the one who scans may report as themselves."""

import re
from functools import lru_cache

import segno
from django.conf import settings
from django.urls import reverse

from aftersales.assets.models import IN_SERVICE, Device
from aftersales.core.scoping import visible

MAX_CODE_LENGTH = 32  # Device.label_code's column
REPORT_PERMISSION = "service.add_servicerequest"


def device_for_code(code: str) -> Device | None:
    """The device a label names, or None. Codes are random (`secrets.token_urlsafe`), so changing one
    character of a code finds nothing rather than a neighbour's device."""
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    # Issue 22 §3: a retired device's code was never printed (its label moved to the replacement): no reports on it.
    return Device.objects.select_related("project").filter(IN_SERVICE, label_code=code).first()


def scan_url(code: str) -> str:
    """The absolute URL a label's QR code encodes, on the public site address (settings.SITE_URL)."""
    return settings.SITE_URL.rstrip("/") + reverse("intake:label_scan", args=[code])


@lru_cache(maxsize=4096)
def qr_svg(data: str) -> str:
    """An inline SVG (no size, a viewBox: CSS sizes it in millimetres) of a QR code at error level M or
    better, with a two-module quiet zone (the label's white margin adds to it). Pure, hence cached."""
    return segno.make(data, error="m").svg_inline(omitsize=True, border=2, svgclass="qr", lineclass=None)


def natural_key(text: str) -> tuple:
    """"2 号杆" before "10 号杆": runs of digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part)


def sheet_devices(user, project, category_id: int | None = None) -> list[Device]:
    """The devices in service of one project for its label sheet (a retired device's label moved to its
    replacement), scoped, in one query; in the order an installer walks the site: by category, then location and
    name in natural order ("2 号杆" before "10 号杆")."""
    devices = visible(Device.objects.filter(IN_SERVICE), user).filter(project=project)
    if category_id is not None:
        devices = devices.filter(category_id=category_id)
    devices = list(devices.only("pk", "name", "model", "serial_number", "location", "label_code", "category_id",
                                "project_id").order_by("pk"))
    return sorted(devices, key=lambda d: (d.category_id, natural_key(d.location), natural_key(d.name), d.pk))


def may_report_as_user(user, device) -> bool:
    """A logged-in user who may open requests and sees the device reports as themselves; anyone else,
    including another customer's user, is an anonymous reporter."""
    return bool(user and user.is_authenticated and user.has_perm(REPORT_PERMISSION)
                and visible(Device.objects.filter(pk=device.pk), user).exists())
