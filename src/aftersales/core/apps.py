from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "aftersales.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.urls import register_converter

        from .converters import RowIdConverter

        register_converter(RowIdConverter, "id")  # before any URLconf is read
        from . import heartbeat_tasks, idempotency_tasks  # noqa: F401 - periodic tasks of this app
        from django.db.backends.signals import connection_created

        from .sqlite_checkpoints import start_for_connection

        post_migrate.connect(refresh_planner_statistics, sender=self, dispatch_uid="aftersales_refresh_statistics")
        connection_created.connect(start_for_connection, dispatch_uid="aftersales_sqlite_checkpoints")


def refresh_planner_statistics(using="default", plan=None, **kwargs) -> None:
    """After migrations ran, give SQLite's planner statistics for new indexes. Without them SQLite guesses an
    unanalysed index is highly selective: the new (branch, state, due) index then served a customer's month
    of requests instead of the customer index (420 ms instead of 1 ms at 1,000,000 requests). PostgreSQL's
    autovacuum analyses on its own."""
    from django.db import connections

    connection = connections[using]
    if plan and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
