from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "aftersales.assets"
    label = "assets"
    verbose_name = _("Equipment")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.DeviceCategory)
        auditlog.register(models.Manufacturer)
        auditlog.register(models.Device)
