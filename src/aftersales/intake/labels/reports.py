"""Public reports from a device label (issue 11 §2): the reporter's input, the rate limits per device and per client
address (in the database, shared by every worker), the unverified request it opens, the tokened follow page's
timeline, and the desk's confirmation of the reporter (triage)."""

import ipaddress
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.core.scoping import visible
from aftersales.service import verbs
from aftersales.service.models import OPEN_STATES, Channel, EventKind, Priority, ServiceRequest, TimelineEvent

from ..models import ReportThrottle

MAX_TOKEN_LENGTH = 32  # ServiceRequest.public_token's column
TITLE_LENGTH = 200  # ServiceRequest.title's column

# What a reporter holding only the follow link may see of the timeline: the steps of the service, never
# who did them, their notes, internal comments, SLA warnings or escalations.
PUBLIC_EVENT_KINDS = (
    EventKind.CREATED, EventKind.REPORTER_VERIFIED, EventKind.REPLIED, EventKind.DISPATCHED, EventKind.DEPARTED,
    EventKind.ARRIVED, EventKind.RESOLVED, EventKind.CONFIRMED, EventKind.REJECTED, EventKind.CLOSED,
    EventKind.CANCELLED,
)


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


def open_report_of(device: Device) -> ServiceRequest | None:
    """Issue 21 §3: the newest open request that names this device (one device, one open report)."""
    return (ServiceRequest.objects.filter(devices=device, state__in=OPEN_STATES).order_by("-created_at")
            .only("pk", "number", "state", "public_token", "created_at").first())


def add_to_report(*, request: ServiceRequest, device: Device, reporter_name: str, reporter_phone: str,
                  description: str, address: str, photo=None) -> None:
    """What a second person scanning the label adds to the open request: counted against the same limits as a new
    report (the same spam could otherwise go this way), in one transaction with the addition."""
    with transaction.atomic():
        now = clock.now()
        _take(f"device:{device.pk}", DEVICE_LIMIT, now)
        _take(f"address:{address}", ADDRESS_LIMIT, now)
        verbs.add_label_report(request=request, device=device, reporter_name=reporter_name,
                               reporter_phone=reporter_phone, description=description,
                               uploads=[photo] if photo is not None else [])


# ------------------------------------------------------------------------------------------ following

def request_for_token(token: str) -> ServiceRequest | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return ServiceRequest.objects.only("pk", "number", "state", "created_at").filter(public_token=token).first()


def public_timeline(request: ServiceRequest) -> list[tuple[str, datetime]]:
    """(kind, time) of the steps a reporter may see; nothing else is read from the events."""
    return list(TimelineEvent.objects.filter(request=request, kind__in=PUBLIC_EVENT_KINDS)
                .order_by("at", "pk").values_list("kind", "at"))


# ------------------------------------------------------------------------------------------ the desk

def unverified_reports(user):
    """Open requests from public device labels whose reporter the desk has not confirmed yet."""
    return visible(ServiceRequest.objects.filter(reporter_verified=False, state__in=OPEN_STATES), user)


def confirm_reporter(*, request, by) -> ServiceRequest:
    """The desk called the reporter of a label report back (or otherwise checked it): reporter verified."""
    return verbs.verify_reporter(request=request, by=by)
