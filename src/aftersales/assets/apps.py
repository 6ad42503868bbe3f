from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "aftersales.assets"
    label = "assets"
    verbose_name = _("Equipment")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        # SEC-2 audits a row's own columns (its reverse relations are other rows, audited as themselves), not its key,
        # timestamps or the label's secret code: the history never shows internals.
        for model in (models.DeviceCategory, models.Manufacturer, models.Device):
            auditlog.register(model, include_fields=[f.name for f in model._meta.get_fields() if f.concrete],
                              exclude_fields=["id", "created_at", "updated_at", "label_code"])
