"""Issue 11 §2, SRQ-1 channel "label": device QR labels (一机一码扫码报修).

Every device carries a random, unguessable `label_code` (assets.Device). The label printed for it holds a QR
code of the absolute URL of its scan page, and the device's name, model, serial number, location and the
service hotline. Whoever scans it either may report on the device as themselves (a customer's user of the
device's customer, or staff who see it: the portal form, pre-filled) or is treated as anonymous: a short
public form that opens an unverified request, rate-limited per device and per client address, whose only
answer is a tokened link to follow that one request. Nothing beyond what is printed on the label is shown
to an anonymous reporter.
"""

import ipaddress
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.core.scoping import visible
from aftersales.service import verbs
from aftersales.service.models import Channel, EventKind, Priority, ServiceRequest, TimelineEvent

from .models import ReportThrottle

MAX_CODE_LENGTH = 32  # Device.label_code's column
MAX_TOKEN_LENGTH = 32  # ServiceRequest.public_token's column
TITLE_LENGTH = 200  # ServiceRequest.title's column
REPORT_PERMISSION = "service.add_servicerequest"

# What a reporter holding only the follow link may see of the timeline: the steps of the service, never
# who did them, their notes, internal comments, SLA warnings or escalations.
PUBLIC_EVENT_KINDS = (
    EventKind.CREATED, EventKind.REPORTER_VERIFIED, EventKind.REPLIED, EventKind.DISPATCHED, EventKind.DEPARTED,
    EventKind.ARRIVED, EventKind.RESOLVED, EventKind.CONFIRMED, EventKind.REJECTED, EventKind.CLOSED,
    EventKind.CANCELLED,
)


# ------------------------------------------------------------------------------------------ codes and QR

def device_for_code(code: str) -> Device | None:
    """The device a label names, or None. Codes are random (`secrets.token_urlsafe`), so changing one
    character of a code finds nothing rather than a neighbour's device."""
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    return Device.objects.select_related("project").filter(label_code=code).first()


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
    """The devices of one project for its label sheet, scoped, in one query; in the order an installer walks
    the site: by category, then location and name in natural order ("2 号杆" before "10 号杆")."""
    devices = visible(Device.objects.all(), user).filter(project=project)
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


# ------------------------------------------------------------------------------------------ input

PHONE_SHAPE = re.compile(r"\+?[0-9][0-9-]*[0-9]")


def normalize_phone(raw: str) -> str | None:
    """A phone number as typed on a phone: full-width digits (Chinese input methods) become ASCII and spaces
    are dropped. Digits with an optional leading + and inner -, 7 to 20 characters; otherwise None."""
    value = re.sub(r"\s", "", unicodedata.normalize("NFKC", raw or ""))
    if 7 <= len(value) <= 20 and PHONE_SHAPE.fullmatch(value):
        return value
    return None


def title_from(description: str) -> str:
    """The request's title: the first non-empty line of what the reporter wrote."""
    first = next((line.strip() for line in description.splitlines() if line.strip()), "")
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


def client_address(http_request) -> str:
    """The client's address for the per-address limit: REMOTE_ADDR. Behind a reverse proxy REMOTE_ADDR is the
    proxy's; the deployment must set it to the real client (docs/intake-labels.md). An IPv6 client owns a
    whole /64, so it counts as one address."""
    raw = http_request.META.get("REMOTE_ADDR", "") or "unknown"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:100]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# ------------------------------------------------------------------------------------------ rate limits

@dataclass(frozen=True)
class Limit:
    """At most `reports` accepted public reports per key and fixed window."""

    scope: str  # "device" or "address"
    reports: int
    window: str  # "hour" or "day" (a calendar day in Asia/Shanghai)


DEVICE_LIMIT = Limit("device", 3, "hour")
ADDRESS_LIMIT = Limit("address", 10, "day")


def window_of(now: datetime, window: str) -> tuple[datetime, datetime]:
    """The fixed window holding `now`: [start, end). Days are Shanghai days (lessons.md #14)."""
    if window == "hour":
        start = now.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    local = now.astimezone(clock.SHANGHAI)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=1))


class ReportLimitReached(Exception):
    """Too many public reports for this device or from this address; nothing was written."""

    def __init__(self, *, limit: Limit, retry_at: datetime):
        super().__init__(f"{limit.scope} limit of {limit.reports} per {limit.window} reached")
        self.limit, self.retry_at = limit, retry_at

    def retry_after_seconds(self, now: datetime) -> int:
        return max(1, math.ceil((self.retry_at - now).total_seconds()))


def _take(key: str, limit: Limit, now: datetime) -> None:
    """Count one report against `key` in the database (shared by every worker process), or raise.
    The conditional UPDATE is atomic: two concurrent reports cannot both take the last place."""
    start, end = window_of(now, limit.window)
    ReportThrottle.objects.get_or_create(key=key, window_start=start)
    taken = ReportThrottle.objects.filter(key=key, window_start=start, count__lt=limit.reports).update(count=F("count") + 1)
    if not taken:
        raise ReportLimitReached(limit=limit, retry_at=end)


def report_from_label(*, device: Device, reporter_name: str, reporter_phone: str, description: str, address: str,
                      photo=None) -> ServiceRequest:
    """Issue 11 §2: an anonymous report from a device's label opens a general request on the device's project,
    channel "label", reporter not verified (the desk confirms). One transaction: over a limit, or on any
    error, nothing is written, the counters included, and a stored photo is removed again."""
    with transaction.atomic():
        now = clock.now()
        _take(f"device:{device.pk}", DEVICE_LIMIT, now)
        _take(f"address:{address}", ADDRESS_LIMIT, now)
        request = verbs.open_request(
            by=None, project=device.project, priority=Priority.GENERAL, channel=Channel.LABEL,
            title=title_from(description), description=description.strip(), devices=[device],
            reporter_name=reporter_name, reporter_phone=reporter_phone, reporter_verified=False,
            uploads=[photo] if photo is not None else [],
        )
        # Windows that have ended count nothing any more; the table stays as small as the traffic.
        ReportThrottle.objects.filter(window_start__lt=now - timedelta(days=2)).delete()
    return request


# ------------------------------------------------------------------------------------------ following

def request_for_token(token: str) -> ServiceRequest | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return ServiceRequest.objects.only("pk", "number", "state", "created_at").filter(public_token=token).first()


def public_timeline(request: ServiceRequest) -> list[tuple[str, datetime]]:
    """(kind, time) of the steps a reporter may see; nothing else is read from the events."""
    return list(TimelineEvent.objects.filter(request=request, kind__in=PUBLIC_EVENT_KINDS)
                .order_by("at", "pk").values_list("kind", "at"))
