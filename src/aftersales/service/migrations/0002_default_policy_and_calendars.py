"""SRQ-3 defaults (see service/defaults.py)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from aftersales.service.defaults import ensure_defaults

    ensure_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
