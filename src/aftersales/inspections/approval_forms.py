"""The forms of the approval gate (INS-2) and of the calendar feeds (issue 23 §10): each parses one verb's input; the
verb decides. A window is a date and a time range (Asia/Shanghai)."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core import clock
from aftersales.core.plausible import PlausibleDateField
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from .approvals import MAX_DOWNTIME_MINUTES
from .forms import StyledForm, VersionForm

# The verbs' field names → the form's
FIELD_OF = {"starts_at": "start", "ends_at": "end", "scope": "scope", "downtime_minutes": "downtime_minutes",
            "name": "name", "note": "note", "project": "project"}


def time_field(label):
    return forms.TimeField(label=label, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))


class WindowForm(StyledForm):
    day = PlausibleDateField(label=_("Date"))
    start = time_field(pgettext_lazy("time range", "From"))
    end = time_field(pgettext_lazy("time range", "To"))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The window ends after it starts."))
        return data

    def window(self) -> dict:
        day = self.cleaned_data["day"]
        return {"starts_at": datetime.combine(day, self.cleaned_data["start"], tzinfo=clock.SHANGHAI),
                "ends_at": datetime.combine(day, self.cleaned_data["end"], tzinfo=clock.SHANGHAI)}


class SendWindowForm(WindowForm, VersionForm):
    scope = forms.CharField(label=_("Scope of work"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("What will be done: cleaning, maintenance, replacement."))
    downtime_minutes = forms.IntegerField(label=_("Expected downtime (minutes)"), min_value=0,
                                          max_value=MAX_DOWNTIME_MINUTES, required=False)
    note = forms.CharField(label=_("Note for the customer"), max_length=4000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ["version", "day", "start", "end", "scope", "downtime_minutes", "note"]


class AcceptForm(VersionForm):
    pass


class ApproveForm(StyledForm):
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)

    def __init__(self, *args, named: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not named:  # a logged-in contact approves as themselves
            del self.fields["name"]
        else:
            self.fields["name"].required = True


class ProposeForm(WindowForm):
    name = forms.CharField(label=_("Your name"), max_length=100)
    note = forms.CharField(label=_("Why this window? (optional)"), max_length=4000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, named: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not named:
            del self.fields["name"]


class FeedForm(StyledForm):
    project = forms.ModelChoiceField(label=_("Calendar of"), queryset=Project.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = visible(Project.objects.all(), user).order_by("name", "pk")
        self.fields["project"].empty_label = _("My schedule") if not user.customer_id else _("All my projects")


def add_error(form, error) -> None:
    field = FIELD_OF.get(error.field or "", None)
    form.add_error(field if field in form.fields else None, error.message)
