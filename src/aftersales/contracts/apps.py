from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "aftersales.contracts"
    label = "contracts"
    verbose_name = _("Service contracts")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        # SEC-2: edits of a contract and corrections of a period are audited (a renewal is a new row, audited as itself).
        for model in (models.ServiceContract, models.CoveragePeriod):
            auditlog.register(model, include_fields=[f.name for f in model._meta.get_fields() if f.concrete],
                              exclude_fields=["id", "created_at", "updated_at", "version"])
