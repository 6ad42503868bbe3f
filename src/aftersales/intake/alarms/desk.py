"""The desk's tools for unmatched alarm events: map an external id to a registered device and replay (or set aside)
every unmatched event with that id, replay one event after its device was registered, or set one aside."""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.assets.models import Device
from aftersales.assets.selectors import retired_message
from aftersales.core import clock
from aftersales.core.errors import DomainError

from ..models import AlarmEvent, AlarmOutcome, DeviceAlias
from .keys import devices_reachable
from .receiving import AlarmInput, Result, local, process


def replay(event: AlarmEvent, *, by) -> Result:
    """Process a stored unmatched event again (after its device was registered or mapped), with its own time."""
    now = clock.now()
    with transaction.atomic():
        event = (AlarmEvent.objects.select_for_update(of=("self",)).select_related("key__customer", "key__project")
                 .get(pk=event.pk))
        if event.outcome != AlarmOutcome.UNMATCHED:
            return Result(event, _("This event was handled already."))
        before = event.reason
        result = process(event.key, AlarmInput.from_event(event), event, now=now)
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
    if device.retired_at is not None:  # issue 22 §3: an alias names a device in service
        raise DomainError(retired_message(device), field="device")
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
