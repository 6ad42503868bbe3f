from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from aftersales.core import clock
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateField, PlausibleDateTimeField
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from .models import ANSWER_FIELDS, SURVEY_FIELDS, Cadence, Satisfaction, Survey, VisitMethod, VisitSchedule

TEXT_MAX = 4000
DATETIME_LOCAL = {"type": "datetime-local"}


def staff_choices(user):
    """The staff members the user may give work to: active, not a customer's contact, in the user's scope."""
    return visible(get_user_model().objects.filter(is_active=True, customer__isnull=True), user).order_by(
        "full_name", "username")


def text_field(label, *, required=False, rows=3, max_length=TEXT_MAX, **kwargs):
    return forms.CharField(label=label, required=required, max_length=max_length,
                           widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


def date_field(label, **kwargs):
    return PlausibleDateField(label=label, widget=forms.DateInput(), **kwargs)


class MonthInput(forms.DateInput):
    """A month picker (<input type="month">, value 2026-11)."""

    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m")


class DateInput(forms.DateInput):
    input_type = "date"


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput(), min_value=1, max_value=2**31 - 1)


# ------------------------------------------------------------------------------------------------ schedules

class ScheduleForm(StyledForm):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    cadence = forms.ChoiceField(label=_("Cadence"), choices=Cadence.choices)
    day_of_month = forms.IntegerField(label=_("Due on day"), min_value=1, max_value=31, initial=15,
                                      help_text=_("Day of the month the visit is due; 31 is the last day of every "
                                                  "month."))
    month_of_quarter = forms.TypedChoiceField(
        label=_("Month of the quarter"), coerce=int, initial=1,
        choices=VisitSchedule._meta.get_field("month_of_quarter").choices,
        help_text=_("Quarterly only: in which month of the quarter the visit is due."))
    method = forms.ChoiceField(label=_("Method"), choices=VisitMethod.choices)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), required=False)
    starts_on = date_field(_("Starts on"), required=False, help_text=_("Empty: today."))
    ends_on = date_field(_("Ends on"), required=False)
    after_requests = forms.BooleanField(label=_("Also a visit after each closed service request"), required=False)
    days_after_request = forms.IntegerField(label=_("Days after the request is closed"), min_value=0, max_value=90,
                                            initial=7)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput(), required=False)

    def __init__(self, *args, user, schedule=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = visible(Project.objects.select_related("customer"), user).order_by("name")
        self.fields["owner"].queryset = staff_choices(user)
        if schedule is None:
            del self.fields["active"], self.fields["version"]
        else:
            del self.fields["project"], self.fields["starts_on"]
            self.fields["version"].required = True

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("A schedule cannot end before it starts."))
        return data

    def verb_arguments(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}


# ------------------------------------------------------------------------------------------------ visits

class PlanVisitForm(StyledForm):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    due_on = date_field(_("Due on"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), required=False)
    method = forms.ChoiceField(label=_("Method"), choices=VisitMethod.choices)
    purpose = text_field(_("Purpose"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = visible(Project.objects.select_related("customer"), user).order_by("name")
        self.fields["owner"].queryset = staff_choices(user)


class ReplanVisitForm(VersionForm):
    due_on = date_field(_("Due on"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), required=False)
    method = forms.ChoiceField(label=_("Method"), choices=VisitMethod.choices)
    purpose = text_field(_("Purpose"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_choices(user)


class RecordVisitForm(VersionForm):
    method = forms.ChoiceField(label=_("Method"), choices=VisitMethod.choices)
    visited_at = PlausibleDateTimeField(label=_("Visited at"), required=False, help_text=_("Empty: now."),
                                        widget=forms.DateTimeInput(attrs=DATETIME_LOCAL, format="%Y-%m-%dT%H:%M"))
    contact_person = forms.CharField(label=_("Customer's contact person"), max_length=100, required=False)
    needs = text_field(_("Needs"), help_text=_("What the customer needs of the existing system."))
    questions = text_field(_("Questions"), help_text=_("What the customer asked."))
    answers = text_field(_("Answers given"), help_text=_("What we answered, or will answer on site."))


class FollowUpLineForm(StyledForm):
    description = text_field(_("Follow-up action"), rows=2)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), required=False)
    due_on = date_field(_("Due by"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_choices(user)

    def clean(self):
        data = super().clean()
        if data.get("description"):
            if not data.get("owner"):
                self.add_error("owner", _("Each follow-up action needs an owner."))
            if not data.get("due_on"):
                self.add_error("due_on", _("Each follow-up action needs a due date."))
        return data


FollowUpLines = forms.formset_factory(FollowUpLineForm, extra=2, max_num=10, absolute_max=10)


class CancelVisitForm(VersionForm):
    reason = text_field(_("Reason"), required=True, rows=2)


class AddFollowUpForm(FollowUpLineForm):
    description = text_field(_("Follow-up action"), rows=2, required=True)
    due_on = date_field(_("Due by"))


class CompleteFollowUpForm(VersionForm):
    resolution = text_field(_("What was done"), required=True, rows=3)


# ------------------------------------------------------------------------------------------------ surveys

SEND, FILL = "send", "fill"


class CreateSurveyForm(StyledForm):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    period = PlausibleDateField(label=_("Month"), input_formats=["%Y-%m", "%Y-%m-%d"], widget=MonthInput())
    how = forms.ChoiceField(label=_("How"), initial=SEND, choices=[
        (SEND, _("Mail a link to the customer's contact (no account needed)")),
        (FILL, _("Fill it in now, with the customer (during a visit)"))])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = visible(Project.objects.select_related("customer"), user).order_by("name")
        self.fields["period"].initial = clock.today().replace(day=1)
        widget = self.fields["period"].widget  # style_fields makes every DateInput a day picker: a month again
        widget.input_type, widget.format = "month", "%Y-%m"


def survey_label(name: str):
    return Survey._meta.get_field(name).verbose_name


class SurveyForm(forms.Form):
    """VIS-2: exactly the seed's fields (SURVEY_FIELDS), labelled as the seed labels them (the model's names). Project
    name and contract number come from the project; the survey time is now, unless staff fill it in for a visit made
    earlier. A plain form: the verb validates and writes, the model's constraints back it."""

    project_name = forms.CharField(label=survey_label("project_name"), required=False, disabled=True)
    contract_number = forms.CharField(label=survey_label("contract_number"), required=False, disabled=True)
    surveyed_at = PlausibleDateTimeField(label=survey_label("surveyed_at"), required=False,
                                         widget=forms.DateTimeInput(attrs=DATETIME_LOCAL, format="%Y-%m-%dT%H:%M"))
    equipment_usage = text_field(survey_label("equipment_usage"))
    system_operation = text_field(survey_label("system_operation"))
    system_stability = text_field(survey_label("system_stability"))
    abnormal = forms.TypedChoiceField(label=survey_label("abnormal"), widget=forms.RadioSelect,
                                      choices=[(True, _("Yes")), (False, _("No"))],
                                      coerce=lambda value: value == "True")
    abnormal_description = text_field(survey_label("abnormal_description"))
    satisfaction = forms.TypedChoiceField(label=survey_label("satisfaction"), widget=forms.RadioSelect, coerce=int,
                                          choices=Satisfaction.choices)
    remarks = text_field(survey_label("remarks"))

    def __init__(self, *args, survey, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        now = clock.now().astimezone(clock.SHANGHAI).replace(second=0, microsecond=0)
        for name in SURVEY_FIELDS:
            value = getattr(survey, name)
            if value not in (None, ""):
                self.initial.setdefault(name, value)
        self.initial.setdefault("surveyed_at", now)
        if not staff:  # the customer answers now: the time is the answer's
            self.fields["surveyed_at"].disabled = True
        style_fields(self)
        for name in ("abnormal", "satisfaction"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if data.get("abnormal") is True and not (data.get("abnormal_description") or "").strip():
            self.add_error("abnormal_description", _("Describe the abnormality."))
        return data

    def answers(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ANSWER_FIELDS}
