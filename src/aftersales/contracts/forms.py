import re

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import Device
from aftersales.assets.selectors import retired_refusal
from aftersales.core.forms import ScopedModelForm, style_fields
from aftersales.core.plausible import PlausibleDateField

from .models import ResponseTier, ServiceContract

SERIALS_MAX = 2000  # serial numbers in one contract form
TIER_CHOICES = [("", _("Not stated")), *ResponseTier.choices]


def period_fields() -> dict:
    """A period's fields, for the first period of a new contract, a renewal and a correction."""
    return {
        "starts_on": PlausibleDateField(label=_("Starts on"), widget=forms.DateInput()),
        "ends_on": PlausibleDateField(label=_("Ends on"), widget=forms.DateInput(),
                                      help_text=_("Inclusive: the last day covered.")),
        "covers_parts": forms.BooleanField(label=_("Covers parts"), required=False, initial=True),
        "covers_labour": forms.BooleanField(label=_("Covers labour"), required=False, initial=True),
        "covers_onsite": forms.BooleanField(label=_("Covers on-site service"), required=False, initial=True),
        "response_tier": forms.ChoiceField(label=_("Response"), choices=TIER_CHOICES, required=False),
    }


PERIOD_FIELDS = tuple(period_fields())


class ContractForm(ScopedModelForm):
    """A new contract with its first period, or (with `instance`) its terms. Devices are typed as serial numbers
    (pasted from the integrator's list): none means the whole project."""

    device_serials = forms.CharField(
        label=_("Devices (serial numbers)"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One serial number per line (or separated by commas). Empty: every device of the project, also "
                    "those added later."))

    class Meta:
        model = ServiceContract
        fields = ["number", "project", "signed_on", "amount", "renewal", "notice_days", "replacement", "notes"]
        field_classes = {"signed_on": PlausibleDateField}
        widgets = {"signed_on": forms.DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if self.instance.pk:  # terms only: the project and the periods do not change here
            del self.fields["project"]
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput(), initial=self.instance.version)
            devices = self.instance.devices.order_by("serial_number").values_list("serial_number", flat=True)
            self.initial.setdefault("device_serials", "\n".join(devices))
        else:
            self.fields.update(period_fields())
        self.order_fields(["number", "project", *PERIOD_FIELDS, "device_serials", "renewal", "notice_days",
                           "replacement", "signed_on", "amount", "notes"])
        style_fields(self)

    def project(self):
        return self.instance.project if self.instance.pk else self.cleaned_data.get("project")

    def clean_device_serials(self):
        serials = [s for s in re.split(r"[\s,，;；]+", self.cleaned_data["device_serials"]) if s]
        if len(serials) > SERIALS_MAX:
            raise forms.ValidationError(_("At most %(n)s devices in one form.") % {"n": SERIALS_MAX})
        return list(dict.fromkeys(serials))

    def clean(self):
        data = super().clean()
        project, serials = self.project(), data.get("device_serials")
        if project is not None and serials:
            devices = list(Device.objects.filter(project=project, serial_number__in=serials).order_by("pk"))
            missing = sorted(set(serials) - {device.serial_number for device in devices})
            if missing:
                self.add_error("device_serials", _("Not devices of this project: %(serials)s")
                               % {"serials": ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")})
            # Issue 22 §3: a retired device is not added; one the contract lists already stays (its coverage history).
            listed = self.instance.devices.values_list("pk", flat=True) if self.instance.pk else ()
            if refusal := retired_refusal(devices, allowed=listed):
                self.add_error("device_serials", refusal)
            data["devices"] = devices
        else:
            data["devices"] = []
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("A period cannot end before it starts."))
        return data

    def verb_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("device_serials", None)
        return data


class PeriodForm(forms.Form):
    """A renewal (its dates default to the same length from the day after the latest period) or a correction."""

    version = forms.IntegerField(widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(period_fields())
        style_fields(self)

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("A period cannot end before it starts."))
        return data


class CancelForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput())
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Who gave notice, how, and why."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class CoverageDayForm(forms.Form):
    """The device page's question: covered on which day?"""

    coverage_on = PlausibleDateField(label=_("Covered on"), widget=forms.DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)
