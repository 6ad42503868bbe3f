"""Monitoring alarms → service requests (issue 11 §3, SRQ-1 channel "alarm").

An integration key (per source, per customer or one project) sends events: a device (serial number,
or an external id mapped through DeviceAlias), an alarm type, raised or cleared, a time, a detail.

Rules, per (device, alarm type), decided by the EVENT time, so the result does not depend on the
order in which events arrive:

- raise, nothing known yet  → open a request (priority from AlarmPriorityRule) and insert the
  ActiveAlarm row in the same transaction; the row's unique key makes it one request even when
  raises arrive concurrently (the loser of the insert re-reads the row and appends instead);
- raise, alarm ongoing       → an ALARM_RAISED line on the open request (no new request); if the desk
  has closed or cancelled that request while the device kept alarming, a raise newer than the last one
  opens a new request (a retried or repeated raise with the same time is ignored);
- raise, alarm recovered     → newer than the recovery: the alarm is raised again (appended to the
  request if it is still open, else a new request); not newer: ignored (a late, superseded raise);
- clear, alarm ongoing       → the recovery is recorded on the request (ALARM_CLEARED); if nobody has
  been dispatched (state new/replied, no engineer) and the key closes recovered requests, the request
  is closed as recovered (state cancelled, with the recovery text); otherwise the desk decides;
- clear older than the raise, a second clear, a clear with nothing raised → ignored, with the reason.
On equal times the recovery wins (a retried raise after its clear opens nothing).

Every event is an AlarmEvent row with its outcome; one event is one transaction. An event for a
device we cannot find is stored as "unmatched" with the reason, for the desk to map and replay.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.core.cache import WorkerCache
from aftersales.core.errors import DomainError
from aftersales.service import verbs
from aftersales.service.models import OPEN_STATES, Channel, EventKind, Priority, ServiceRequest, State

from .models import ActiveAlarm, AlarmEvent, AlarmOutcome, AlarmPriorityRule, DeviceAlias, IntegrationKey, hash_key

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = timedelta(minutes=5)  # a source clock ahead by more than this: the receipt time is used
MAX_BATCH = 100
TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most once a minute per key
UNDISPATCHED = (State.NEW, State.REPLIED)

# The types most sources send. Any other lower-case slug is accepted and shown as it is.
ALARM_TYPES = {
    "offline": gettext_lazy("Offline"),  # 离线
    "video_loss": gettext_lazy("Video loss"),  # 视频丢失
    "disk_error": gettext_lazy("Disk error"),  # 硬盘故障
    "tamper": gettext_lazy("Tampering"),  # 遮挡/破坏
    "storage_full": gettext_lazy("Storage full"),  # 存储已满
}

# Defaults written by migration 0002 (which keeps its own copy); (alarm type, device category code or None, priority).
DEFAULT_PRIORITY_RULES = [
    ("offline", "nvr", Priority.SERIOUS),
    ("offline", None, Priority.GENERAL),
    ("video_loss", None, Priority.GENERAL),
    ("disk_error", None, Priority.SERIOUS),
    ("tamper", None, Priority.SERIOUS),
    ("storage_full", None, Priority.SERIOUS),
]


def type_label(alarm_type: str) -> str:
    return str(ALARM_TYPES.get(alarm_type, alarm_type))


def local(moment: datetime | None) -> str:
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@dataclass(frozen=True)
class AlarmInput:
    """One validated event (the API's serializer builds it; a replay builds it from the stored row)."""

    alarm_type: str
    raised: bool
    serial: str = ""
    manufacturer: str = ""
    external_id: str = ""
    time: datetime | None = None
    detail: str = ""
    payload: dict = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: AlarmEvent) -> "AlarmInput":
        device = (event.payload or {}).get("device") or {}
        return cls(alarm_type=event.alarm_type, raised=event.raised, serial=str(device.get("serial") or "").strip(),
                   manufacturer=str(device.get("manufacturer") or "").strip(),
                   external_id=str(device.get("external_id") or "").strip(), time=event.occurred_at,
                   detail=str((event.payload or {}).get("detail") or ""), payload=event.payload)

    def device_label(self) -> str:
        if self.external_id:
            return _("external id “%(id)s”") % {"id": self.external_id}
        if self.manufacturer:
            return _("serial number “%(serial)s” (%(maker)s)") % {"serial": self.serial, "maker": self.manufacturer}
        return _("serial number “%(serial)s”") % {"serial": self.serial}


@dataclass
class Result:
    event: AlarmEvent
    message: str

    @property
    def outcome(self) -> str:
        return self.event.outcome

    @property
    def request(self) -> ServiceRequest | None:
        return self.event.request


# ------------------------------------------------------------------------------------------ keys

def create_key(*, by, customer, name: str, project=None, auto_close_recovered: bool = True) -> tuple[IntegrationKey, str]:
    """A new key; the caller shows the returned plain key once. Only its hash is stored."""
    if not name.strip():
        raise DomainError(_("Give the key a name (the monitoring system it is for)."), field="name")
    if project is not None and project.customer_id != customer.pk:
        raise DomainError(_("The project must belong to the customer."), field="project")
    from .models import new_key

    plain = new_key()
    key = IntegrationKey.objects.create(name=name.strip(), customer=customer, project=project, prefix=plain[:12],
                                        key_hash=hash_key(plain), auto_close_recovered=auto_close_recovered,
                                        created_by=by)
    return key, plain


def deactivate_key(key: IntegrationKey) -> IntegrationKey:
    if key.active:
        key.active = False
        key.save(update_fields=["active"])
    return key


# Active keys by hash, kept per worker like API tokens (core/cache.py): a deactivated key is refused at once by
# the worker that deactivated it and by the others within the cache's TTL.
_keys = WorkerCache("integration keys", IntegrationKey)
# When this worker last wrote a key's last_used_at (the cached key does not see its own writes).
_touched = WorkerCache("integration key use", IntegrationKey)


def _active_key(digest: str) -> IntegrationKey | None:
    return (IntegrationKey.objects.select_related("customer", "project")
            .filter(key_hash=digest, active=True).order_by("pk").first())  # unique: no sort by name


def authenticate(raw_key: str | None) -> IntegrationKey | None:
    """The active key whose sha256 matches, or None. The key is shared by the worker's requests: read only.
    Nothing is kept for a wrong key."""
    if not raw_key:
        return None
    digest = hash_key(raw_key.strip())
    return _keys.get(digest, lambda: _active_key(digest), keep_none=False)


def touch(key: IntegrationKey, *, now=None) -> None:
    """Remember when the key was last used, at most once a minute (no hot row under an alarm storm)."""
    now = now or clock.now()
    if key.last_used_at is not None and key.last_used_at >= now - TOUCH_INTERVAL:
        return  # written less than a minute before the key was read
    written = _touched.peek(key.pk)
    if written is not None and written >= now - TOUCH_INTERVAL:
        return  # this worker wrote it less than a minute ago
    IntegrationKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL)).update(last_used_at=now)
    _touched.put(key.pk, now)


# ------------------------------------------------------------------------------------------ matching

def devices_reachable(key: IntegrationKey):
    """The devices a key may report on: its customer's, or only its project's."""
    devices = Device.objects.filter(project__customer_id=key.customer_id)
    if key.project_id:
        devices = devices.filter(project_id=key.project_id)
    return devices


# What an alarm reads of its device and the device's project: the whole rows cost a quarter of an append.
ALARM_DEVICE_FIELDS = ("name", "model", "serial_number", "location", "category", "project__name", "project__customer",
                       "project__branch")
def resolve_device(key: IntegrationKey, data: AlarmInput) -> tuple[Device | None, str]:
    """The device the event is about, within the key's customer (and project), or None and the reason."""
    def reachable():  # not built for the usual serial number: building it cost a tenth of an append
        return devices_reachable(key).select_related("project").only(*ALARM_DEVICE_FIELDS).order_by("pk")

    scope = key.project.name if key.project_id else key.customer.name
    if data.external_id:
        alias = DeviceAlias.objects.filter(customer_id=key.customer_id, external_id=data.external_id).first()
        device = reachable().filter(pk=alias.device_id).first() if alias else None
        if device is None:
            return None, _("No device is mapped to the external id “%(id)s” in %(scope)s. Map it to a registered "
                           "device on the unmatched alarms page.") % {"id": data.external_id, "scope": scope}
        return device, ""
    if data.manufacturer:  # rare; iexact escapes its value, so it is not one of the compiled queries
        found = list(reachable().filter(serial_number=data.serial, manufacturer__name__iexact=data.manufacturer)[:2])
    else:
        found = _devices_with_serial(key, data.serial)
    if not found:
        return None, _("No registered device has the %(device)s in %(scope)s.") % {"device": data.device_label(), "scope": scope}
    if len(found) > 1:
        return None, _("Several devices have the %(device)s in %(scope)s: send the manufacturer too.") % {
            "device": data.device_label(), "scope": scope}
    return found[0], ""


def _devices_with_serial(key: IntegrationKey, serial: str) -> list[Device]:
    """At most two devices the key reaches with this serial number, each with its project."""
    devices = Device.objects.filter(project__customer_id=key.customer_id, serial_number=serial)
    if key.project_id:
        devices = devices.filter(project_id=key.project_id)
    return list(devices.select_related("project").only(*ALARM_DEVICE_FIELDS).order_by("pk")[:2])


# The rules, read once per worker and cleared by a save in this process (core/cache.py: others within its TTL).
_priority_rules = WorkerCache("alarm priority rules", AlarmPriorityRule)


def priority_for(alarm_type: str, device: Device) -> str:
    """The most specific rule wins: type and device category, else the type's default, else general."""
    def load():
        rules = {}
        for rule in AlarmPriorityRule.objects.all():
            rules.setdefault(rule.alarm_type, {})[rule.category_id] = rule.priority
        return rules

    by_category = _priority_rules.get("all", load).get(alarm_type, {})
    for priority in (by_category.get(device.category_id), by_category.get(None)):
        if priority in Priority.values:
            return priority
        if priority:
            log.warning("alarm priority rule for %s has an unknown priority %r; ignored", alarm_type, priority)
    return Priority.GENERAL


def ensure_default_rules() -> int:
    """Write the default rules that are missing (categories that do not exist yet are skipped). For a database
    flushed after migrate, and after the device categories were created. Returns the number written."""
    from aftersales.assets.models import DeviceCategory

    categories = {c.code: c for c in DeviceCategory.objects.filter(code__in=[c for _t, c, _p in DEFAULT_PRIORITY_RULES if c])}
    written = 0
    for alarm_type, code, priority in DEFAULT_PRIORITY_RULES:
        if code and code not in categories:
            continue
        _rule, created = AlarmPriorityRule.objects.get_or_create(
            alarm_type=alarm_type, category=categories.get(code) if code else None, defaults={"priority": priority})
        written += created
    return written


# ------------------------------------------------------------------------------------------ receiving

def receive(key: IntegrationKey, data: AlarmInput, *, now=None) -> Result:
    """One event, one transaction: stored with its outcome, whatever it is."""
    now = now or clock.now()
    resolved = resolve_device(key, data)  # a read: before the transaction takes SQLite's write lock
    with transaction.atomic():
        event = AlarmEvent(key=key, customer_id=key.customer_id, received_at=now, payload=data.payload,
                           alarm_type=data.alarm_type, raised=data.raised)
        return _process(key, data, event, now=now, resolved=resolved)


def _effective_time(data: AlarmInput, now) -> tuple[datetime, str]:
    if data.time is None:
        return now, ""
    if data.time > now + FUTURE_TOLERANCE:
        return now, _("The event time %(time)s is in the future (the source's clock is ahead); the receipt time "
                      "is used.") % {"time": data.time.isoformat()}
    return data.time, ""


def _process(key: IntegrationKey, data: AlarmInput, event: AlarmEvent, *, now, resolved=None) -> Result:
    occurred, note = _effective_time(data, now)
    event.occurred_at = occurred
    device, reason = resolved or resolve_device(key, data)
    if device is None:
        event.device, event.request, event.outcome, event.reason = None, None, AlarmOutcome.UNMATCHED, reason
        _save(event)
        return Result(event, reason)
    _lock_device(device)
    if data.raised:
        outcome, request, message = _raise(key, data, device, occurred, now)
    else:
        outcome, request, message = _clear(key, data, device, occurred, now)
    event.device, event.request, event.outcome = device, request, outcome
    event.reason = "\n".join(part for part in (message if outcome == AlarmOutcome.IGNORED else "", note) if part)
    _save(event)
    return Result(event, message)


def _save(event: AlarmEvent) -> None:
    """A new event is inserted; a replayed one is updated."""
    event.save(force_insert=event.pk is None)


def _lock_device(device) -> None:
    """One writer per device at a time (PostgreSQL row lock; on SQLite the transaction holds the database's write
    lock from its BEGIN IMMEDIATE, so there is nothing to ask for). The unique key of ActiveAlarm stays the
    guarantee; the lock spares the losers of a race a rolled-back request (a gap in the numbers)."""
    if connection.features.has_select_for_update:
        list(Device.objects.select_for_update().filter(pk=device.pk).values_list("pk", flat=True))


def _latest_recovery(device, alarm_type):
    """When the pair last recovered (received events only), or None."""
    return (AlarmEvent.objects.filter(device=device.pk, alarm_type=alarm_type, raised=False)
            .order_by("-occurred_at").values_list("occurred_at", flat=True).first())


def _active(device, alarm_type) -> ActiveAlarm | None:
    """The pair's row, locked, with what an alarm reads of its request (number and state)."""
    return (ActiveAlarm.objects.select_for_update().filter(device=device.pk, alarm_type=alarm_type)
            .select_related("request").only(*ACTIVE_FIELDS).order_by("pk").first())


ACTIVE_FIELDS = ("device_id", "alarm_type", "request_id", "raised_at", "cleared_at", "request__number",
                 "request__state")


def _source_text(key, data, occurred) -> str:
    text = _("%(type)s at %(time)s (source: %(source)s)") % {
        "type": type_label(data.alarm_type), "time": local(occurred), "source": key.name}
    return f"{text}\n{data.detail}" if data.detail else text


def _event_data(key, data, occurred) -> dict:
    return {"alarm_type": data.alarm_type, "occurred_at": occurred.isoformat(), "source": key.name, "key": key.pk}


def _open(key, data, device, occurred) -> ServiceRequest:
    label = type_label(data.alarm_type)
    title = _("[Alarm] %(device)s %(type)s") % {"device": device.name, "type": label}
    lines = [
        _("Monitoring alarm: %(type)s") % {"type": label},
        _("Device: %(name)s, %(model)s, serial number %(serial)s") % {
            "name": device.name, "model": device.model, "serial": device.serial_number},
        _("Location: %(location)s") % {"location": device.location} if device.location else "",
        _("Raised at: %(time)s") % {"time": local(occurred)},
        _("Source: %(source)s") % {"source": key.name},
        _("Detail: %(detail)s") % {"detail": data.detail} if data.detail else "",
    ]
    request = verbs.open_request(
        by=None, project=device.project, priority=priority_for(data.alarm_type, device), channel=Channel.ALARM,
        title=title[:200], description="\n".join(line for line in lines if line), devices=[device],
        reporter_name=key.name[:100],
    )
    verbs.record_channel_event(request=request, kind=EventKind.ALARM_RAISED,  # after "created"
                               text=_source_text(key, data, occurred), **_event_data(key, data, occurred))
    return request


def _open_row(key, data, device, occurred) -> ServiceRequest | None:
    """Open the request and insert the ActiveAlarm row together; None if another raise inserted it first."""
    try:
        with transaction.atomic():  # a savepoint: losing the race rolls back our request, not the event
            request = _open(key, data, device, occurred)
            ActiveAlarm.objects.create(device=device, alarm_type=data.alarm_type, request=request, raised_at=occurred)
            return request
    except IntegrityError:
        if not ActiveAlarm.objects.filter(device=device, alarm_type=data.alarm_type).exists():
            raise  # not the race we expect
        return None


def _raise(key, data, device, occurred, now):
    active = _active(device, data.alarm_type)
    if active is None:
        recovered = _latest_recovery(device, data.alarm_type)
        if recovered is not None and recovered >= occurred:
            return AlarmOutcome.IGNORED, None, _(
                "A recovery at %(cleared)s was received already; this older alarm changes nothing.") % {
                "cleared": local(recovered)}
        request = _open_row(key, data, device, occurred)
        if request is not None:
            return AlarmOutcome.OPENED, request, _("Opened %(number)s.") % {"number": request.number}
        active = _active(device, data.alarm_type)  # the winner's row: append to its request instead
    again = active.cleared_at is not None
    if again and occurred <= active.cleared_at:
        return AlarmOutcome.IGNORED, active.request, _(
            "The alarm recovered at %(cleared)s, after this event's time; nothing changes.") % {
            "cleared": local(active.cleared_at)}
    request = active.request
    if not again and request.state not in OPEN_STATES and occurred <= active.raised_at:
        return AlarmOutcome.IGNORED, request, _(
            "%(number)s for this alarm was closed by the desk; only a newer raise or one after the recovery opens "
            "a new request.") % {"number": request.number}
    if request.state in OPEN_STATES:
        text = _source_text(key, data, occurred)
        if again:
            text = _("Raised again after the recovery at %(cleared)s.") % {"cleared": local(active.cleared_at)} + "\n" + text
        verbs.record_channel_event(request=request, kind=EventKind.ALARM_RAISED, at=now, text=text, again=again,
                                   **_event_data(key, data, occurred))
        outcome, message = AlarmOutcome.APPENDED, _("Added to %(number)s.") % {"number": request.number}
    else:  # the desk closed or cancelled it while the device kept (or went back to) alarming
        request = _open(key, data, device, occurred)
        active.request = request
        outcome, message = AlarmOutcome.OPENED, _("Opened %(number)s.") % {"number": request.number}
    active.raised_at = occurred if again else max(active.raised_at, occurred)
    active.cleared_at = None
    active.save(update_fields=["request", "raised_at", "cleared_at"])
    return outcome, request, message


def _clear(key, data, device, occurred, now):
    active = _active(device, data.alarm_type)
    if active is None:
        return AlarmOutcome.IGNORED, None, _("No %(type)s alarm is known for this device; nothing to clear.") % {
            "type": type_label(data.alarm_type)}
    if active.cleared_at is not None:
        if occurred > active.cleared_at:
            active.cleared_at = occurred
            active.save(update_fields=["cleared_at"])
        return AlarmOutcome.IGNORED, active.request, _("The alarm has already recovered (at %(cleared)s).") % {
            "cleared": local(active.cleared_at)}
    if occurred < active.raised_at:
        return AlarmOutcome.IGNORED, active.request, _(
            "This recovery (%(time)s) is older than the alarm it would clear (raised at %(raised)s); nothing changes.") % {
            "time": local(occurred), "raised": local(active.raised_at)}
    active.cleared_at = occurred
    active.save(update_fields=["cleared_at"])
    request = ServiceRequest.objects.select_for_update().select_related("policy__calendar").get(pk=active.request_id)
    text = _("Recovered at %(time)s (source: %(source)s)") % {"time": local(occurred), "source": key.name}
    if data.detail:
        text += "\n" + data.detail
    can_close = request.state in UNDISPATCHED and request.assignee_id is None
    if can_close and key.auto_close_recovered:
        request = verbs.close_as_recovered(request=request, at=now, text=text + "\n" + _(
            "Nobody had been dispatched: the request is closed automatically as recovered."),
            **_event_data(key, data, occurred))
        return AlarmOutcome.CLOSED, request, _("Recovery recorded; %(number)s closed as recovered.") % {
            "number": request.number}
    if request.state in OPEN_STATES:
        text += "\n" + (_("Automatic closing is off for this source: the desk decides.") if can_close
                        else _("An engineer is involved: the desk decides."))
    verbs.record_channel_event(request=request, kind=EventKind.ALARM_CLEARED, at=now, text=text, closed=False,
                               **_event_data(key, data, occurred))
    return AlarmOutcome.RECOVERED, request, _("Recovery recorded on %(number)s.") % {"number": request.number}



# ------------------------------------------------------------------------------------------ the desk's tools

def replay(event: AlarmEvent, *, by) -> Result:
    """Process a stored unmatched event again (after its device was registered or mapped), with its own time."""
    now = clock.now()
    with transaction.atomic():
        event = (AlarmEvent.objects.select_for_update(of=("self",)).select_related("key__customer", "key__project")
                 .get(pk=event.pk))
        if event.outcome != AlarmOutcome.UNMATCHED:
            return Result(event, _("This event was handled already."))
        before = event.reason
        result = _process(event.key, AlarmInput.from_event(event), event, now=now)
        if event.outcome != AlarmOutcome.UNMATCHED:
            event.reason = "\n".join(part for part in (event.reason, _(
                "Replayed by %(user)s at %(time)s; it was unmatched: %(reason)s") % {
                "user": by.display_name, "time": local(now), "reason": before}) if part)
            event.save(update_fields=["reason"])
        return result


def unmatched_with_external_id(customer_id: int, external_id: str):
    return (AlarmEvent.objects.filter(customer_id=customer_id, outcome=AlarmOutcome.UNMATCHED,
                                      payload__device__external_id=external_id)
            .order_by("occurred_at", "pk"))


def map_external_id(event: AlarmEvent, *, device: Device, by, replay_events: bool) -> tuple[DeviceAlias, list[Result]]:
    """Map the event's external id to a device the event's key may reach; then replay every unmatched event
    with that id in time order (or set them aside as handled)."""
    external_id = str(((event.payload or {}).get("device") or {}).get("external_id") or "").strip()
    if not external_id:
        raise DomainError(_("This event names its device by serial number: register the device, then replay it."))
    if not devices_reachable(event.key).filter(pk=device.pk).exists():
        raise DomainError(_("The device is not one this event's integration key may report on."), field="serial")
    with transaction.atomic():
        alias, created = DeviceAlias.objects.get_or_create(customer_id=event.customer_id, external_id=external_id,
                                                           defaults={"device": device})
        if not created and alias.device_id != device.pk:
            raise DomainError(_("“%(id)s” is mapped to %(device)s already; change that mapping in the administration.") % {
                "id": external_id, "device": alias.device}, field="serial")
    results = []
    for pending in unmatched_with_external_id(event.customer_id, external_id):
        if replay_events:
            results.append(replay(pending, by=by))
        else:
            results.append(dismiss(pending, by=by, reason=_("Mapped to %(device)s by %(user)s; not replayed.") % {
                "device": device.name, "user": by.display_name}))
    return alias, results


def dismiss(event: AlarmEvent, *, by, reason: str = "") -> Result:
    """Set an unmatched event aside (e.g. a test message): kept, no longer listed."""
    with transaction.atomic():
        event = AlarmEvent.objects.select_for_update().get(pk=event.pk)
        if event.outcome != AlarmOutcome.UNMATCHED:
            return Result(event, _("This event was handled already."))
        event.outcome = AlarmOutcome.IGNORED
        event.reason = "\n".join(part for part in (event.reason, reason or _("Dismissed by %(user)s at %(time)s.") % {
            "user": by.display_name, "time": local(clock.now())}) if part)
        event.save(update_fields=["outcome", "reason"])
        return Result(event, event.reason)
