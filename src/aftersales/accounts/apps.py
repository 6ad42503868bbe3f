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

        from django.contrib.auth.signals import user_logged_in

        from . import tokens
        from .lockout import on_logged_in

        tokens.connect(models.User)
        user_logged_in.connect(on_logged_in, dispatch_uid="accounts_forget_login_failures")

        # SEC-2 audits a row's own columns (its reverse relations are other rows, audited as themselves), not its key
        # or timestamps: the history never shows internals. A password (its hash) is never logged.
        for model, internal in ((models.Branch, []), (models.User, ["password", "last_login"]), (models.OnCallShift, [])):
            auditlog.register(model, include_fields=[f.name for f in model._meta.get_fields() if f.concrete],
                              exclude_fields=["id", "created_at", "updated_at", *internal])
