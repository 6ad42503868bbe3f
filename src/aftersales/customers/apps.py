from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "aftersales.customers"
    label = "customers"
    verbose_name = _("Customers and projects")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        # SEC-2 audits a row's own columns (its reverse relations are other rows, audited as themselves), not its key
        # or timestamps: the history never shows internals.
        for model in (models.Customer, models.Project, models.Milestone, models.DeadlineExtension):
            auditlog.register(model, include_fields=[f.name for f in model._meta.get_fields() if f.concrete],
                              exclude_fields=["id", "created_at", "updated_at"])
