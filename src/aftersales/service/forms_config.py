"""Issue 21 §6: the forms of the configuration pages. They parse; the verbs in service/config.py check and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import Position
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateField, implausible_year_message, plausible_year

from . import config
from .models import DayKind, SlaPolicy


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class YearForm(StyledForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=9999)

    def clean_year(self):
        year = self.cleaned_data["year"]
        if not plausible_year(year):
            raise forms.ValidationError(implausible_year_message(), code="implausible_date")
        return year


class DayForm(StyledForm):
    day = PlausibleDateField(label=_("Date"))
    kind = forms.ChoiceField(label=_("Kind"), choices=DayKind.choices, initial=DayKind.OFF)
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("E.g. 国庆节, or the reason of a closure."))


class ProjectPolicyForm(StyledForm):
    policy = forms.ModelChoiceField(label=_("SLA policy"), queryset=SlaPolicy.objects.order_by("name"), required=False,
                                    empty_label=_("The default policy"))


class StepForm(StyledForm):
    level = forms.IntegerField(label=_("Level"), min_value=1, max_value=config.MAX_LEVELS)
    position = forms.ChoiceField(label=_("Notify position"), choices=Position.choices)
    delay_minutes = forms.IntegerField(label=_("Minutes after the miss"), min_value=0,
                                       max_value=config.MAX_DELAY_MINUTES, initial=0,
                                       help_text=_("Level 1 fires at the miss; later levels this many minutes after it."))

    def __init__(self, *args, holders=None, **kwargs):
        super().__init__(*args, **kwargs)
        if holders is not None:  # each position with who holds it in the branch
            self.fields["position"].choices = [
                (value, f"{label} ({', '.join(user.display_name for user in holders.get(value, [])) or _('nobody in this branch')})")
                for value, label in Position.choices]
