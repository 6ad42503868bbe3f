"""The forms of the daily log pages: each parses one verb's input; the verb decides (and checks the links again)."""

import re
from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.core.forms import style_fields
from aftersales.core.scoping import visible
from aftersales.customers.models import Project
from aftersales.inspections.models import InspectionRound
from aftersales.service.models import ServiceRequest

from .models import MINUTES_PER_DAY

SEPARATORS = re.compile(r"[\s,，;；、]+")
MAX_NUMBERS = 20


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    """Every POST carries the version of the day the author saw; a stale one is a conflict, never an overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class StartDayForm(forms.Form):
    """Start a day; `keep` are the keys of the suggestions the author ticked."""

    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    keep = forms.MultipleChoiceField(label=_("Suggestions to keep"), required=False,
                                     widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, suggestions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [(s.key, s.what) for s in suggestions]


class EntryForm(VersionForm):
    """One entry: project, what, where, minutes; the requests by their numbers, the rounds of the author's month."""

    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none(),
                                     error_messages={"required": _("Choose the project.")})
    what = forms.CharField(label=_("What was done"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    place = forms.CharField(label=_("Where"), max_length=200, required=False)
    minutes = forms.IntegerField(label=_("Time spent (minutes)"), min_value=1, max_value=MINUTES_PER_DAY,
                                 widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 5}))
    request_numbers = forms.CharField(label=_("Service requests"), required=False, max_length=600,
                                      help_text=_("Numbers of the requests this concerns, separated by spaces."))
    rounds = forms.ModelMultipleChoiceField(label=_("Inspection rounds"), queryset=InspectionRound.objects.none(),
                                            required=False, widget=forms.CheckboxSelectMultiple)
    visible_to_customer = forms.BooleanField(label=_("Visible to the customer"), required=False,
                                             help_text=_("The customer's contacts see this entry in their portal."))

    def __init__(self, *args, user, day, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["project"].queryset = (visible(Project.objects.all(), user).select_related("customer")
                                           .order_by("customer__name", "name"))
        self.fields["project"].label_from_instance = lambda p: f"{p.customer.name} · {p.name}"
        self.fields["rounds"].queryset = (
            visible(InspectionRound.objects.all(), user).filter(engineer_id=user.pk, due_on__gte=day - timedelta(days=45),
                                                                due_on__lte=day + timedelta(days=45))
            .select_related("plan", "project").order_by("due_on", "pk"))
        self.fields["rounds"].label_from_instance = lambda r: f"{r.due_on:%m-%d} {r.plan.name} · {r.project.name}"

    def clean_request_numbers(self):
        numbers = [n for n in SEPARATORS.split(self.cleaned_data.get("request_numbers") or "") if n]
        numbers = list(dict.fromkeys(numbers))
        if len(numbers) > MAX_NUMBERS:
            raise forms.ValidationError(_("At most %(n)s requests.") % {"n": MAX_NUMBERS})
        found = list(visible(ServiceRequest.objects.filter(number__in=numbers), self.user))
        missing = set(numbers) - {r.number for r in found}
        if missing:
            raise forms.ValidationError(_("No request numbered %(numbers)s.") % {"numbers": "、".join(sorted(missing))})
        return found

    def verb_arguments(self) -> dict:
        data = self.cleaned_data
        return {"version": data["version"], "project": data["project"], "what": data["what"], "place": data["place"],
                "minutes": data["minutes"], "requests": data["request_numbers"], "rounds": list(data["rounds"]),
                "visible_to_customer": data["visible_to_customer"]}

    @staticmethod
    def initial_of(entry) -> dict:
        return {"version": entry.log.version, "project": entry.project_id, "what": entry.what, "place": entry.place,
                "minutes": entry.minutes, "request_numbers": " ".join(r.number for r in entry.requests.all()),
                "rounds": [r.pk for r in entry.rounds.all()], "visible_to_customer": entry.visible_to_customer}


class TeamDayForm(forms.Form):
    day = forms.DateField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
