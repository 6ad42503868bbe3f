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

        # SEC-2 audits a row's own columns (its reverse relations are other rows, audited as themselves), not its key,
        # timestamps or a key's hash and prefix: the history never shows internals.
        for model in (models.IntegrationKey, models.DeviceAlias, models.AlarmPriorityRule):
            auditlog.register(model, include_fields=[f.name for f in model._meta.get_fields() if f.concrete],
                              exclude_fields=["id", "created_at", "last_used_at", "key_hash", "prefix"])


def _default_rules_after_migrate(sender, app_config=None, **kwargs):
    """A flushed database gets the default alarm priority rules back (like service's defaults)."""
    if app_config is not None and app_config.label == "intake":
        from .alarms.rules import ensure_default_rules

        ensure_default_rules()
