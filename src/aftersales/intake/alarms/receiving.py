"""One alarm event, one transaction (the rules: the package's docstring): the device it names, within the key's
reach; then per (device, alarm type) a new request, a line on the open one, a recovery (closing the request as
recovered when nobody was dispatched), or nothing, with the reason. Every event is stored with its outcome."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.core.rows import instance_from
from aftersales.customers.models import Project
from aftersales.service import verbs
from aftersales.service.models import OPEN_STATES, Channel, EventKind, ServiceRequest, State

from ..models import ActiveAlarm, AlarmEvent, AlarmOutcome, DeviceAlias, IntegrationKey
from .keys import devices_reachable
from .rules import priority_for, type_label

FUTURE_TOLERANCE = timedelta(minutes=5)  # a source clock ahead by more than this: the receipt time is used
UNDISPATCHED = (State.NEW, State.REPLIED)


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


# ------------------------------------------------------------------------------------------ matching

# What an alarm reads of its device and the device's project: the whole rows cost a quarter of an append.
ALARM_DEVICE_FIELDS = ("name", "model", "serial_number", "location", "category", "retired_at", "replaced_by",
                       "project__name", "project__customer", "project__branch")
MAX_SUCCESSORS = 20  # replacements followed from a retired device to the unit in service (a guard against a cycle)


def resolve_device(key: IntegrationKey, data: AlarmInput) -> tuple[Device | None, str]:
    """The device the event is about, within the key's customer (and project), or None and the reason."""
    def reachable():  # not built for the usual serial number: building it cost a tenth of an append
        return devices_reachable(key).select_related("project").only(*ALARM_DEVICE_FIELDS).order_by("pk")

    def scope() -> str:  # named only when the device is not found
        return key.project.name if key.project_id else key.customer.name

    if data.external_id:
        alias = DeviceAlias.objects.filter(customer_id=key.customer_id, external_id=data.external_id).first()
        device = reachable().filter(pk=alias.device_id).first() if alias else None
        if device is None:
            return None, _("No device is mapped to the external id “%(id)s” in %(scope)s. Map it to a registered "
                           "device on the unmatched alarms page.") % {"id": data.external_id, "scope": scope()}
        return in_service(device, reachable)
    if data.manufacturer:  # rare; iexact escapes its value, so it is not one of the compiled queries
        found = list(reachable().filter(serial_number=data.serial, manufacturer__name__iexact=data.manufacturer)
                     .order_by(F("retired_at").asc(nulls_first=True), "pk")[:2])
    else:
        found = _devices_with_serial(key, data.serial)
    if not found:
        return None, _("No registered device has the %(device)s in %(scope)s.") % {
            "device": data.device_label(), "scope": scope()}
    found = [device for device in found if device.retired_at is None] or found  # in service first (issue 22 §3)
    if len(found) > 1:
        return None, _("Several devices have the %(device)s in %(scope)s: send the manufacturer too.") % {
            "device": data.device_label(), "scope": scope()}
    return in_service(found[0], reachable)


def in_service(device: Device, reachable) -> tuple[Device | None, str]:
    """Issue 22 §3: an event naming a retired device (by its old serial number, or an alias not moved yet) is about
    the unit that replaced it: (that device, a note for the event), or None and the reason when it was retired with
    no unit in its place. `reachable()`: the devices the key may report on."""
    if device.retired_at is None:
        return device, ""
    retired, successor = device, device
    for _hop in range(MAX_SUCCESSORS):
        if successor.replaced_by_id is None:
            break
        successor = reachable().filter(pk=successor.replaced_by_id).first()
        if successor is None:
            break
        if successor.retired_at is None:
            return successor, _("%(old)s was replaced by %(new)s on %(date)s: the event is recorded on the device in "
                                "service.") % {"old": _device_text(retired), "new": _device_text(successor),
                                              "date": local(retired.retired_at)[:10]}
    return None, _("%(device)s was retired on %(date)s and no device in service replaces it.") % {
        "device": _device_text(retired), "date": local(retired.retired_at)[:10]}


def _device_text(device: Device) -> str:
    return f"{device.name} · {device.serial_number}"


# The reads of every event are raw statements (Manager.raw, Model.from_db): building them through the ORM cost
# more than half of an alarm append (issue 19's bench). The ORM's own queries above serve the rare paths.
DEVICES_WITH_SERIAL = (
    'SELECT d."id", d."project_id", d."category_id", d."name", d."model", d."serial_number", d."location", '
    'd."retired_at", d."replaced_by_id", '
    'p."name" AS "project_name", p."customer_id" AS "project_customer_id", p."branch_id" AS "project_branch_id" '
    'FROM "{device}" d JOIN "{project}" p ON p."id" = d."project_id" '
    'WHERE p."customer_id" = %s AND d."serial_number" = %s AND (%s IS NULL OR d."project_id" = %s) '
    'ORDER BY (d."retired_at" IS NOT NULL), d."id" LIMIT 2').format(  # in service first (issue 22 §3)
    device=Device._meta.db_table, project=Project._meta.db_table)


def _devices_with_serial(key: IntegrationKey, serial: str) -> list[Device]:
    """At most two devices the key reaches with this serial number, those in service first, each with its project."""
    found = list(Device.objects.raw(DEVICES_WITH_SERIAL, [key.customer_id, serial, key.project_id, key.project_id]))
    for device in found:
        device.project = instance_from(Project, {"id": device.project_id, "name": device.project_name,
                                                 "customer_id": device.project_customer_id,
                                                 "branch_id": device.project_branch_id})
    return found


# ------------------------------------------------------------------------------------------ receiving

def receive(key: IntegrationKey, data: AlarmInput, *, now=None) -> Result:
    """One event, one transaction: stored with its outcome, whatever it is."""
    now = now or clock.now()
    resolved = resolve_device(key, data)  # a read: before the transaction takes SQLite's write lock
    with transaction.atomic():
        event = AlarmEvent(key=key, customer_id=key.customer_id, received_at=now, payload=data.payload,
                           alarm_type=data.alarm_type, raised=data.raised)
        return process(key, data, event, now=now, resolved=resolved)


def _effective_time(data: AlarmInput, now) -> tuple[datetime, str]:
    if data.time is None:
        return now, ""
    if data.time > now + FUTURE_TOLERANCE:
        return now, _("The event time %(time)s is in the future (the source's clock is ahead); the receipt time "
                      "is used.") % {"time": data.time.isoformat()}
    return data.time, ""


def process(key: IntegrationKey, data: AlarmInput, event: AlarmEvent, *, now, resolved=None) -> Result:
    """The rules for one new or replayed event, inside the caller's transaction; the event is saved with its outcome."""
    occurred, note = _effective_time(data, now)
    event.occurred_at = occurred
    device, reason = resolved or resolve_device(key, data)
    if device is None:
        event.device, event.request, event.outcome, event.reason = None, None, AlarmOutcome.UNMATCHED, reason
        _save(event)
        return Result(event, reason)
    note = "\n".join(part for part in (reason, note) if part)  # found: `reason` notes a retired device's successor
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


ACTIVE_WITH_REQUEST = (
    'SELECT a."id", a."device_id", a."alarm_type", a."request_id", a."raised_at", a."cleared_at", '
    'r."number" AS "request_number", r."state" AS "request_state" '
    'FROM "{active}" a JOIN "{request}" r ON r."id" = a."request_id" '
    'WHERE a."device_id" = %s AND a."alarm_type" = %s ORDER BY a."id" LIMIT 1'
).format(active=ActiveAlarm._meta.db_table, request=ServiceRequest._meta.db_table)


def _active(device, alarm_type) -> ActiveAlarm | None:
    """The pair's row, locked (PostgreSQL: with its request's), with what an alarm reads of its request."""
    sql = ACTIVE_WITH_REQUEST + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    active = next(iter(ActiveAlarm.objects.raw(sql, [device.pk, alarm_type])), None)
    if active is not None:
        active.request = instance_from(ServiceRequest, {"id": active.request_id, "number": active.request_number,
                                                        "state": active.request_state})
    return active


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
