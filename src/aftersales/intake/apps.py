from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "aftersales.intake"
    label = "intake"
    verbose_name = _("Intake channels")

    def ready(self):
        from auditlog.registry import auditlog
        from django.db.models.signals import post_migrate

        from . import models

        post_migrate.connect(_default_rules_after_migrate, dispatch_uid="aftersales_intake_alarm_rules")

        auditlog.register(models.IntegrationKey, exclude_fields=["key_hash"])
        auditlog.register(models.DeviceAlias)
        auditlog.register(models.AlarmPriorityRule)


def _default_rules_after_migrate(sender, app_config=None, **kwargs):
    """A flushed database gets the default alarm priority rules back (like service's defaults)."""
    if app_config is not None and app_config.label == "intake":
        from .alarms import ensure_default_rules

        ensure_default_rules()
