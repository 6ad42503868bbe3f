"""Issue 22 §3: when a device is replaced, monitoring follows the unit in service.

`follow_replacement` runs in the repair's replace step (repairs.services.swap_in_replacement), in its transaction:
the monitoring system's ids (DeviceAlias) of the old unit move to the new one, so the next alarm that names them lands
on the new device. An alarm naming the old unit's serial number is routed the same way when it arrives
(receiving.resolve_device follows `Device.replaced_by`).

What happens to an alarm that is open on the old device: it stays where it is, as history. Its ActiveAlarm row and its
request keep naming the old device (a request never changes its devices; the desk closes it, usually with the repair).
"One open request per device and alarm type" is keyed by the device, so the first alarm after the replacement is the
new device's own: it opens a request for the new device, or joins the new device's open one of that type. A recovery
sent after the replacement is the new device's too; with nothing raised on the new device it changes nothing (the
old device's request is the desk's to close).
"""

from ..models import DeviceAlias


def follow_replacement(*, old, new) -> int:
    """Move the aliases of `old` to `new` (one row each, saved so the audit history shows the move). Returns how
    many moved."""
    moved = 0
    for alias in DeviceAlias.objects.filter(device=old).order_by("pk"):
        alias.device = new
        alias.save(update_fields=["device"])
        moved += 1
    return moved
