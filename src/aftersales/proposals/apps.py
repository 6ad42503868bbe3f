from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "aftersales.proposals"
    verbose_name = _("Proposals and hidden-danger reports")
