"""Default alarm priorities (issue 11 §3): NVR offline → serious (严重), any other device offline → general (一般),
video loss → general, disk error, tamper and storage full → serious. Administrators edit them in the admin.

A rule for a device category is written only if that category exists (the categories come with the demo or
the administrator): without it, the type's default rule applies and the lookup falls back to "general".
`aftersales.intake.alarms.ensure_default_rules()` writes the missing ones later (e.g. after the categories exist).
This migration keeps its own copy of the table so that later changes of the code do not rewrite history."""

from django.db import migrations

RULES = [
    ("offline", "nvr", "serious"),
    ("offline", None, "general"),
    ("video_loss", None, "general"),
    ("disk_error", None, "serious"),
    ("tamper", None, "serious"),
    ("storage_full", None, "serious"),
]


def forwards(apps, schema_editor):
    Rule = apps.get_model("intake", "AlarmPriorityRule")
    Category = apps.get_model("assets", "DeviceCategory")
    for alarm_type, code, priority in RULES:
        category = Category.objects.filter(code=code).first() if code else None
        if code and category is None:
            continue
        Rule.objects.get_or_create(alarm_type=alarm_type, category=category, defaults={"priority": priority})


def backwards(apps, schema_editor):
    Rule = apps.get_model("intake", "AlarmPriorityRule")
    for alarm_type, code, priority in RULES:
        rules = Rule.objects.filter(alarm_type=alarm_type, priority=priority)
        rules = rules.filter(category__code=code) if code else rules.filter(category__isnull=True)
        rules.delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial"), ("assets", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
