"""CUS-3, CUS-4 verbs."""

from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError

from .models import Device


class AlreadyRetired(DomainError):
    status = 409
    code = "conflict"


def refresh_project_warranties(project) -> int:
    """Recompute the stored warranty dates of every device of `project` after its defaults changed."""
    devices = list(Device.objects.filter(project=project))
    for device in devices:
        device.refresh_warranty(project)
    Device.objects.bulk_update(
        devices, ["warranty_start", "manufacturer_warranty_end", "warranty_end"], batch_size=500
    )
    return len(devices)


def retire(device: Device, *, at, replaced_by: Device | None = None) -> Device:
    """Issue 22 §3: take `device` out of service at `at`, in favour of `replaced_by` when a unit took its place.
    Inside the caller's transaction (the repair's replace step): the caller holds the device's row lock. The row is
    kept with everything that names it; from now on lists, pickers, label sheets, counts, alarms and reminders leave
    it out (models.IN_SERVICE). Saved through the model, so the device's audit history shows the retirement."""
    if device.retired_at is not None:
        raise AlreadyRetired(_("This device was retired already."))
    if replaced_by is not None and replaced_by.pk == device.pk:
        raise DomainError(_("A device cannot replace itself."))
    device.retired_at, device.replaced_by = at, replaced_by
    device.save(update_fields=["retired_at", "replaced_by", "updated_at"])  # updated_at: auto_now
    return device
