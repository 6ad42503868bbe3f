from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """No table: the holder of the reports' permission (RPT-1), which accounts/roles.py gives to managers and to
    customers' users (who see only their own data: every figure is scoped by `visible()`)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", _("Can view reports and export them"))]
        verbose_name = _("report")
