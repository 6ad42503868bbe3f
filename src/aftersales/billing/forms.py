from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.core.forms import style_fields


class ExceptionForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (CNY)"), max_digits=12, decimal_places=2,
                                help_text=_("Negative for a discount, e.g. -120.00; positive for a charge the rule does "
                                            "not make."))
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)
