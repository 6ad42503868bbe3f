from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "aftersales.accounts"
    label = "accounts"
    verbose_name = _("Organisation")

    def ready(self):
        from auditlog.registry import auditlog
        from django.db.models.signals import post_migrate

        from .roles import sync_roles

        post_migrate.connect(sync_roles, dispatch_uid="aftersales_sync_roles")

        from . import models
        from .backends import connect_signals

        connect_signals(models.User)

        auditlog.register(models.Branch)
        auditlog.register(models.User, exclude_fields=["password", "last_login"])
        auditlog.register(models.OnCallShift)
