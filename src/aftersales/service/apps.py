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

        from django.db.models.signals import post_delete, post_save

        from . import calendar_store as calendars

        for signal in (post_save, post_delete):
            signal.connect(calendars.calendar_day_changed, sender=models.CalendarDay, dispatch_uid=f"day_changed_{signal}")
            signal.connect(calendars.holiday_year_changed, sender=models.HolidayYear, dispatch_uid=f"year_changed_{signal}")
        post_save.connect(calendars.work_calendar_changed, sender=models.WorkCalendar, dispatch_uid="work_calendar_changed")

        for model in (models.WorkOrder, models.IncidentReport, models.SlaPolicy,
                      models.SlaTargetRule, models.EscalationRule, models.WorkCalendar, models.CalendarDay):
            auditlog.register(model, exclude_fields=["public_token", "version"])
        # SEC-2 audits what people decide. A request's due times, next check and escalation level are derived
        # from the clock log (and the escalations are on its timeline); updated_at changes with everything.
        # Reverse relations (targets, events, the incident report …) are other rows, audited as themselves.
        reverse = [f.name for f in models.ServiceRequest._meta.get_fields() if f.auto_created and not f.concrete]
        auditlog.register(models.ServiceRequest, exclude_fields=[
            "public_token", "version", "updated_at", "reply_due_at", "resolve_due_at", "next_due_at", "next_check_at",
            "due_provisional", "escalation_level", *reverse])
