from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "aftersales.billing"
    label = "billing"
    verbose_name = _("Charge sheets")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.ChargeLine)  # SEC-2: who added a manager's exception, and when
