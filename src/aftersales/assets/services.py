"""CUS-3, CUS-4 verbs."""

from .models import Device


def refresh_project_warranties(project) -> int:
    """Recompute the stored warranty dates of every device of `project` after its defaults changed."""
    devices = list(Device.objects.filter(project=project))
    for device in devices:
        device.refresh_warranty(project)
    Device.objects.bulk_update(
        devices, ["warranty_start", "manufacturer_warranty_end", "warranty_end"], batch_size=500
    )
    return len(devices)
