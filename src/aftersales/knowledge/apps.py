from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "aftersales.knowledge"
    verbose_name = _("Knowledge base")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import index

        # A table rebuild by the SQLite schema editor drops the FTS5 triggers: put them back after every migrate.
        post_migrate.connect(index.after_migrate, sender=self, dispatch_uid="aftersales_knowledge_index")
