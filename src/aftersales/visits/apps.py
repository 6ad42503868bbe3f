from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "aftersales.visits"
    label = "visits"
    verbose_name = _("Return visits and surveys")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        # SEC-2: a schedule is edited through forms (its owner, cadence, pause); the other rows are written by verbs only.
        auditlog.register(models.VisitSchedule, include_fields=[
            "owner", "cadence", "day_of_month", "month_of_quarter", "method", "starts_on", "ends_on", "after_requests",
            "days_after_request", "active"])
