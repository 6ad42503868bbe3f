"""The forms of the proposal pages: each parses one verb's input; the verb decides. Every choice offered is scoped
and limited to the row's project."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import Device
from aftersales.core.forms import style_fields
from aftersales.core.scoping import visible
from aftersales.inspections.models import InspectionRound
from aftersales.service.models import ServiceRequest

from .models import HazardReport, ProposalKind, Risk, StepState

CHOICES_MAX = 200  # the most recent rows of a project offered in a select


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    """Every POST carries the version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


def text_area(label, *, required=True, rows=3, help_text=""):
    return forms.CharField(label=label, required=required, max_length=8000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


def limit(field, queryset):
    """Validate against every row of `queryset`, offer its CHOICES_MAX most recent (a project's requests grow)."""
    field.queryset = queryset.order_by("-pk")
    field.choices = [("", "---------"), *((row.pk, str(row)) for row in field.queryset[:CHOICES_MAX])]


class HazardForm(StyledForm):
    """A draft report of `project`, or (with `version`) a change or revision of one."""

    title = forms.CharField(label=_("Title"), max_length=200)
    risk = forms.ChoiceField(label=_("Risk level"), choices=Risk.choices, widget=forms.RadioSelect)
    found_where = forms.CharField(label=_("Where found"), max_length=300, required=False,
                                  help_text=_("Place, or the occasion: a repair, an inspection round."))
    service_request = forms.ModelChoiceField(label=_("Found during the request"), required=False,
                                             queryset=ServiceRequest.objects.none())
    inspection_round = forms.ModelChoiceField(label=_("Found during the inspection round"), required=False,
                                              queryset=InspectionRound.objects.none())
    devices = forms.ModelMultipleChoiceField(label=_("Devices"), required=False, queryset=Device.objects.none(),
                                             widget=forms.SelectMultiple(attrs={"size": 6}))
    description = text_area(_("Description"), rows=4)
    consequence = text_area(_("Possible consequence"), required=False)
    recommendation = text_area(_("Recommendation"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1, required=False)

    def __init__(self, *args, user, project, report=None, **kwargs):
        super().__init__(*args, **kwargs)
        limit(self.fields["service_request"], visible(ServiceRequest.objects.filter(project=project), user))
        limit(self.fields["inspection_round"],
              visible(InspectionRound.objects.filter(project=project).select_related("plan"), user))
        self.fields["devices"].queryset = visible(Device.objects.filter(project=project).order_by("pk"), user)
        if report is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True



class ProposalForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind of proposal"), choices=ProposalKind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Title"), max_length=200)
    background = text_area(_("Background"), required=False, rows=4)
    hazard_report = forms.ModelChoiceField(label=_("Hidden-danger report"), required=False,
                                           queryset=HazardReport.objects.none())
    service_request = forms.ModelChoiceField(label=_("Service request"), required=False,
                                             queryset=ServiceRequest.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1, required=False)

    def __init__(self, *args, user, project, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        limit(self.fields["hazard_report"], visible(HazardReport.objects.filter(project=project), user))
        limit(self.fields["service_request"], visible(ServiceRequest.objects.filter(project=project), user))
        if proposal is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True


class OptionForm(VersionForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = text_area(_("Description"), required=False)
    cost = forms.DecimalField(label=_("Estimated cost (yuan)"), min_value=0, max_digits=12, decimal_places=2,
                              initial=0, help_text=_("0 for a free option."))
    duration = forms.CharField(label=_("Duration"), max_length=100, required=False,
                               help_text=_("For example: 2 days."))
    impact = text_area(_("Impact and downtime"), required=False, rows=2)


class RemoveOptionForm(VersionForm):
    option = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class SignForm(VersionForm):
    """The written answer: the name the customer types to sign."""

    name = forms.CharField(label=_("Your name (typed as your signature)"), max_length=100)


class RejectForm(SignForm):
    reason = text_area(_("Reason"))


class ChooseForm(SignForm):
    option = forms.ChoiceField(label=_("Your choice"), widget=forms.RadioSelect)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [(str(o.pk), str(o)) for o in options]
        self.order_fields(["option", "name", "reason"])

    def clean_option(self):
        return int(self.cleaned_data["option"])


class StepForm(VersionForm):
    title = forms.CharField(label=_("Step"), max_length=200)
    planned_on = forms.DateField(label=_("Planned for"), required=False, widget=forms.DateInput)
    note = text_area(_("Note"), required=False, rows=2)


class StepUpdateForm(VersionForm):
    step = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    state = forms.ChoiceField(label=_("State"), choices=StepState.choices)
    on = forms.DateField(label=_("On"), required=False, widget=forms.DateInput)
    note = text_area(_("Note"), required=False, rows=2)
