"""The forms of the change-notice pages: each parses one verb's input; the verb decides."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.assets.models import Device
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateTimeField
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from .models import ChangeKind, TestResult, Verdict
from .services import MAX_DEVICES


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    """Every POST carries the version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


def datetime_field(label, help_text=""):
    return PlausibleDateTimeField(label=label, help_text=help_text,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


def text_area(label, *, required=True, rows=3, help_text="", max_length=8000):
    return forms.CharField(label=label, required=required, max_length=max_length, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class NoticeForm(StyledForm):
    """A change notice: the customer in the portal, or staff entering one the customer phoned in."""

    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    kind = forms.ChoiceField(label=_("Kind of change"), choices=ChangeKind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Title"), max_length=200,
                            help_text=_("E.g. “Core switch firmware upgrade” or “Windows security patches on the "
                                        "video management server”."))
    description = text_area(pgettext_lazy("change notice", "Description"), rows=5,
                            help_text=_("What will change, where, which products and versions, who does the work."))
    window_starts_at = datetime_field(_("Window starts at"),
                                      help_text=_("Please announce a change at least three days ahead: we answer a "
                                                  "day before the window opens."))
    window_ends_at = datetime_field(_("Window ends at"))
    devices = forms.ModelMultipleChoiceField(
        label=_("Affected devices"), queryset=Device.objects.none(), required=False,
        help_text=_("Optional. Hold Ctrl (or ⌘) to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 8}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = visible(Project.objects.select_related("customer"), user).order_by(
            "name", "pk")
        if user.customer_id:
            self.fields["project"].label_from_instance = lambda project: project.name
        else:
            self.fields["project"].label_from_instance = lambda project: f"{project.customer.name} · {project.name}"
        self.fields["devices"].queryset = visible(Device.objects.select_related("project"), user).order_by(
            "project__name", "name", "pk")
        self.fields["devices"].label_from_instance = (
            lambda device: f"{device.project.name} · {device.name}" + (f" · {device.location}" if device.location else ""))

    def clean_devices(self):
        devices = self.cleaned_data["devices"]
        if len(devices) > MAX_DEVICES:
            raise forms.ValidationError(_("At most %(n)s devices.") % {"n": MAX_DEVICES})
        return list(devices)

    def clean(self):
        data = super().clean()
        starts, ends = data.get("window_starts_at"), data.get("window_ends_at")
        if starts and ends and ends <= starts:
            self.add_error("window_ends_at", _("The window must end after it starts."))
        project, devices = data.get("project"), data.get("devices") or []
        if project and any(device.project_id != project.pk for device in devices):
            self.add_error("devices", _("The affected devices must be of the notice's project."))
        return data


class TestForm(VersionForm):
    subject = forms.CharField(label=_("What was tested"), max_length=300,
                              help_text=_("E.g. “NVR firmware 4.1 with the new switch VLAN settings”."))
    environment = forms.CharField(label=_("Environment"), max_length=300, required=False,
                                  help_text=_("Lab, test server, a spare unit, the customer's site …"))
    result = forms.ChoiceField(label=pgettext_lazy("compatibility test", "Result"), choices=TestResult.choices, widget=forms.RadioSelect)
    evidence = text_area(pgettext_lazy("compatibility test", "Evidence"), required=False, rows=4,
                         help_text=_("What was observed: versions, logs, figures."))
    evidence_file = forms.FileField(label=_("Evidence file"), required=False,
                                    help_text=_("A screenshot, a PDF report or a text log, at most 10 MB."))

    def clean(self):
        data = super().clean()
        if not (data.get("evidence") or "").strip() and not data.get("evidence_file") and not self.has_error("evidence"):
            self.add_error("evidence", _("Give the evidence: what was observed, or a file."))
        return data


class AnswerForm(VersionForm):
    verdict = forms.ChoiceField(label=_("Verdict"), choices=Verdict.choices, widget=forms.RadioSelect)
    answer = text_area(_("Answer to the customer"), rows=5,
                       help_text=_("What we tested and found; with conditions, exactly what the customer must do."))


class WithdrawForm(VersionForm):
    reason = text_area(_("Reason"), required=False, rows=3, max_length=4000)
