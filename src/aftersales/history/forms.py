"""The history's filters (LOG-1): kinds, a local period (from and to days, both included), the cursor."""

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import sources


class HistoryFilter(forms.Form):
    kind = forms.MultipleChoiceField(label=_("Kinds"), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                                     choices=sources.choices)
    start = forms.DateField(label=pgettext_lazy("period", "From"), required=False, widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}))
    end = forms.DateField(label=pgettext_lazy("period", "To"), required=False, widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}))
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end of the period is before its start."))
        return data

    def filters(self) -> dict:
        """The timeline's keyword arguments: the period as aware datetimes, local days, half-open."""
        data, zone = self.cleaned_data, timezone.get_current_timezone()
        start = datetime.combine(data["start"], time.min, tzinfo=zone) if data.get("start") else None
        end = datetime.combine(data["end"] + timedelta(days=1), time.min, tzinfo=zone) if data.get("end") else None
        return {"kinds": data.get("kind") or None, "start": start, "end": end}
