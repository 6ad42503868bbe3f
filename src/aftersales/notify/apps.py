from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "aftersales.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from . import tasks  # noqa: F401 - connects delivery to the outbox's signal (notify/signals.py)
        from auditlog.registry import auditlog

        from . import models

        # SEC-2: who pointed the robots where. The secret is never logged; the address carries a robot's key.
        # Its own columns only, not its key or timestamps: the history never shows internals.
        auditlog.register(models.WebhookEndpoint,
                          include_fields=[f.name for f in models.WebhookEndpoint._meta.get_fields() if f.concrete],
                          exclude_fields=["id", "created_at", "updated_at", "secret"], mask_fields=["url"],
                          mask_callable="aftersales.notify.models.mask_url")
