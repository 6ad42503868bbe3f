from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "aftersales.inspections"
    label = "inspections"
    verbose_name = _("Inspections")

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        # SEC-2: plan edits made through forms and the admin are audited; rounds have their own event lines, and a
        # checklist's edits are its versions.
        auditlog.register(models.InspectionPlan, exclude_fields=["created_at", "updated_at", "version"],
                          m2m_fields={"checklists", "engineers", "devices"})
