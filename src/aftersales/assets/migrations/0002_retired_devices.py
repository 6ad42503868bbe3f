"""Issue 22 §3: a replaced device is retired. The schema, then the devices replaced before this release: each is
retired at its replacement's time in favour of the unit that took its place, and the monitoring aliases that still
name it move to the device in service now (as the replace step does from now on)."""

import django.db.models.deletion
from django.db import migrations, models


def retire_replaced_devices(apps, schema_editor):
    """Through the historical models: every DeviceReplacement retires its old device (kept retired if it already is)."""
    Device = apps.get_model("assets", "Device")
    DeviceReplacement = apps.get_model("repairs", "DeviceReplacement")
    DeviceAlias = apps.get_model("intake", "DeviceAlias")
    successor = {}
    for old_id, new_id, at in DeviceReplacement.objects.order_by("at", "pk").values_list("old_id", "new_id", "at"):
        Device.objects.filter(pk=old_id, retired_at__isnull=True).update(retired_at=at, replaced_by_id=new_id)
        successor[old_id] = new_id

    def in_service(device_id):
        seen = set()
        while device_id in successor and device_id not in seen:  # a unit replaced twice: the second replacement
            seen.add(device_id)
            device_id = successor[device_id]
        return device_id

    for alias_id, device_id in DeviceAlias.objects.filter(device_id__in=list(successor)).values_list("pk", "device_id"):
        DeviceAlias.objects.filter(pk=alias_id).update(device_id=in_service(device_id))


class Migration(migrations.Migration):

    dependencies = [
        ('assets', '0001_initial'),
        ('customers', '0001_initial'),
        ('repairs', '0001_initial'),
        ('intake', '0002_alarm_priority_defaults'),
    ]

    operations = [
        migrations.AddField(
            model_name='device',
            name='replaced_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='replaced_devices', to='assets.device', verbose_name='replaced by'),
        ),
        migrations.AddField(
            model_name='device',
            name='retired_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='retired at'),
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['warranty_end', 'retired_at'], name='device_warranty_end_retired'),
        ),
        migrations.RemoveIndex(
            model_name='device',
            name='device_warranty_end',
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(condition=models.Q(retired_at__isnull=True), fields=['project', 'category', 'retired_at'], name='device_in_service'),
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(condition=models.Q(retired_at__isnull=False), fields=['retired_at'], name='device_retired'),
        ),
        migrations.AddConstraint(
            model_name='device',
            constraint=models.CheckConstraint(condition=models.Q(replaced_by__isnull=True) | models.Q(retired_at__isnull=False), name='device_replaced_only_when_retired'),
        ),
        migrations.RunPython(retire_replaced_devices, migrations.RunPython.noop, elidable=True),
    ]
