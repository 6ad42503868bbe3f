from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartsConfig(AppConfig):
    name = "aftersales.parts"
    label = "parts"
    verbose_name = _("Spare parts")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        # SEC-2: the catalogue, the locations and the stock levels are edited through forms and the admin, so auditlog
        # keeps their history. The ledger (Movement) needs no audit: it is never edited, every row names who and when.
        for model in (models.Part, models.Location, models.StockLevel):
            auditlog.register(model, include_fields=[f.name for f in model._meta.get_fields() if f.concrete],
                              exclude_fields=["id", "created_at", "updated_at"])
