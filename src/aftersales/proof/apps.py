from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProofConfig(AppConfig):
    name = "aftersales.proof"
    verbose_name = _("Monthly proof of service")
