from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "aftersales.backups"
    label = "backups"
    verbose_name = _("Backups")

    def ready(self):
        from . import tasks  # noqa: F401 - registers the daily backup with the worker (huey)
