from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "aftersales.service"
    label = "service"
    verbose_name = _("Service requests")

    def ready(self):
        from . import tasks  # noqa: F401 - connects the worker to the clock's signals (service/signals.py)
        from auditlog.registry import auditlog
        from django.db.models.signals import post_migrate

        from . import models
        from .defaults import after_migrate

        post_migrate.connect(after_migrate, dispatch_uid="aftersales_service_defaults")
        from . import term_index

        post_migrate.connect(term_index.after_migrate, sender=self, dispatch_uid="aftersales_service_term_index")

        from django.db.models.signals import post_delete, post_save

        from . import calendar_store as calendars

        for signal in (post_save, post_delete):
            signal.connect(calendars.calendar_day_changed, sender=models.CalendarDay, dispatch_uid=f"day_changed_{signal}")
            signal.connect(calendars.holiday_year_changed, sender=models.HolidayYear, dispatch_uid=f"year_changed_{signal}")
        post_save.connect(calendars.work_calendar_changed, sender=models.WorkCalendar, dispatch_uid="work_calendar_changed")

        # Requests, work orders and incident reports are written only by the verbs, whose timeline lines are their
        # audit (service/timeline.py); auditlog audits the configuration edited in the admin.
        for model in (models.SlaPolicy, models.SlaTargetRule, models.EscalationRule, models.WorkCalendar,
                      models.CalendarDay):
            auditlog.register(model)
