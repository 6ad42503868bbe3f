from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "aftersales.customers"
    label = "customers"
    verbose_name = _("Customers and projects")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.Customer)
        auditlog.register(models.Project)
        auditlog.register(models.Milestone)
        auditlog.register(models.DeadlineExtension)
