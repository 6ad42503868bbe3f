from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "aftersales.service"
    label = "service"
    verbose_name = _("Service requests")

    def ready(self):
        from auditlog.registry import auditlog
        from django.db.models.signals import post_migrate

        from . import models
        from .defaults import after_migrate

        post_migrate.connect(after_migrate, dispatch_uid="aftersales_service_defaults")

        for model in (models.ServiceRequest, models.WorkOrder, models.IncidentReport, models.SlaPolicy,
                      models.SlaTargetRule, models.EscalationRule, models.WorkCalendar, models.CalendarDay):
            auditlog.register(model, exclude_fields=["public_token", "version"])
