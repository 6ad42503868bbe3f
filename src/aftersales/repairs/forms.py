"""The forms of the repair pages: each parses one verb's input; the verb decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import Manufacturer
from aftersales.core import clock
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateField
from aftersales.parts import selectors as parts_selectors
from aftersales.parts.forms import LocationChoice, PartChoice
from aftersales.parts.models import Location, Part

from .models import ReplacementSource, Verdict


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    """Every POST carries the version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


def date_input():
    return forms.DateInput(attrs={"type": "date"})


def note_field(label=_("Note"), required=False, rows=2):
    return forms.CharField(label=label, required=required, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": rows}))


class OpenCaseForm(StyledForm):
    """Open a case on a device: one given (from its page), one of a request's project, or found by its serial."""

    device = forms.ModelChoiceField(label=_("Device"), queryset=None, required=False)
    serial = forms.CharField(label=_("Serial number"), max_length=100, required=False,
                             help_text=_("The serial number of the device to repair."))
    fault = note_field(_("Fault"), required=True, rows=3)
    finding_ref = forms.CharField(label=_("Inspection finding"), max_length=100, required=False,
                                  help_text=_("When an inspection found the fault: its reference."))

    def __init__(self, *args, devices, by_serial, **kwargs):
        super().__init__(*args, **kwargs)
        self.by_serial = by_serial
        if by_serial:
            del self.fields["device"]
            self.fields["serial"].required = True
        else:
            del self.fields["serial"]
            self.fields["device"].queryset = devices
            self.fields["device"].required = True
            self.fields["device"].label_from_instance = lambda d: f"{d.name} · {d.model} · {d.serial_number}"


class NoteForm(VersionForm):
    note = note_field()


class WhatWasDoneForm(VersionForm):
    note = note_field(_("What was done"), required=True, rows=3)


class WhyForm(VersionForm):
    note = note_field(_("Why"), required=True)


class ReasonForm(VersionForm):
    reason = note_field(_("Reason"), required=True)


SOURCE_CHOICES = ReplacementSource.choices


class PlanReplacementForm(VersionForm):
    source = forms.ChoiceField(label=_("Replacement unit from"), choices=SOURCE_CHOICES, widget=forms.RadioSelect)
    note = note_field()


class ReplaceForm(VersionForm):
    serial = forms.CharField(label=_("Serial number of the new unit"), max_length=100)
    source = forms.ChoiceField(label=_("Replacement unit from"), choices=SOURCE_CHOICES, widget=forms.RadioSelect)
    part = PartChoice(label=_("Spare part taken from stock"), queryset=Part.objects.none(), required=False,
                      help_text=_("From our stock only: the catalogue part the unit leaves the stock as."))
    location = LocationChoice(label=_("Taken from"), queryset=Location.objects.none(), required=False,
                              help_text=_("From our stock only: empty for your own van, or a location you may take parts from."))
    from_where = forms.CharField(label=_("From where"), max_length=200, required=False,
                                 help_text=_("Who supplied it, or a note on where it was taken from."))
    model = forms.CharField(label=_("Model, when it differs"), max_length=100, required=False)
    manufacturer = forms.ModelChoiceField(label=_("Manufacturer, when it differs"), queryset=Manufacturer.objects.all(),
                                          required=False)
    note = note_field()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # SEC-1: the choices are what the user may use; the verb checks again (parts.services.may_use)
        self.fields["part"].queryset = Part.objects.filter(active=True).select_related("manufacturer").order_by(
            "name", "pk")
        self.fields["location"].queryset = parts_selectors.usable_locations(user).select_related("branch")
        van = parts_selectors.van_of(user)
        if van is not None:  # left empty, a unit from stock is taken from the user's own van (the verb's default)
            self.fields["location"].empty_label = _("My van (%(van)s)") % {"van": van.name}

    def clean(self):
        data = super().clean()
        if data.get("source") == ReplacementSource.STOCK:
            if not data.get("part") and "part" not in self.errors:
                self.add_error("part", _("Choose the spare part the replacement unit is taken as."))
        elif data.get("source"):
            for name in ("part", "location"):
                if data.get(name):
                    self.add_error(name, _("Only a unit from our stock names a part and a location."))
        return data


class RmaFields(VersionForm):
    rma_number = forms.CharField(label=_("RMA number"), max_length=60)
    manufacturer = forms.ModelChoiceField(label=_("Manufacturer"), queryset=Manufacturer.objects.all(), required=False)
    vendor_name = forms.CharField(label=_("Other vendor"), max_length=120, required=False,
                                  help_text=_("When the vendor is not a manufacturer in the registry."))
    carrier = forms.CharField(label=_("Carrier"), max_length=60, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=60, required=False)
    expected_back_on = PlausibleDateField(label=_("Expected back on"), required=False, widget=date_input(),
                                          help_text=_("Empty: 30 days after it was sent."))


class SendToVendorForm(RmaFields):
    sent_on = PlausibleDateField(label=_("Sent on"), widget=date_input())
    note = note_field()
    field_order = ["version", "rma_number", "manufacturer", "vendor_name", "carrier", "tracking_number", "sent_on",
                   "expected_back_on", "note"]


class RmaForm(RmaFields):
    """The RMA form: the details of the shipment in flight, corrected."""


class ReturnFromVendorForm(VersionForm):
    verdict = forms.ChoiceField(label=_("Manufacturer's verdict"), choices=Verdict.choices, widget=forms.RadioSelect)
    returned_on = PlausibleDateField(label=_("Returned on"), widget=date_input())
    returned_serial = forms.CharField(label=_("Serial number of the unit sent back"), max_length=100, required=False,
                                      help_text=_("When the manufacturer sent another unit."))
    vendor_report = note_field(_("Manufacturer's report"))
    note = note_field()


class LendForm(VersionForm):
    unit_serial = forms.CharField(label=_("Serial number of the spare unit"), max_length=100)
    unit_model = forms.CharField(label=_("Model of the spare unit"), max_length=100)
    due_back_on = PlausibleDateField(label=_("Due back on"), widget=date_input())
    lent_to = forms.CharField(label=_("Lent to"), max_length=100, required=False,
                              help_text=_("Who received the unit at the customer's."))
    note = note_field()


class ReturnLoanForm(VersionForm):
    note = note_field(_("Condition on return"))


def today_initial():
    return clock.today()
