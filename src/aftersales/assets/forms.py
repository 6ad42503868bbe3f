from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.core.forms import ScopedModelForm
from aftersales.core.plausible import plausible_form_fields

from .models import Device

ENTERED_DATES = ("installed_on", "warranty_start_override", "manufacturer_warranty_end_override", "warranty_end_override")


class DeviceForm(ScopedModelForm):
    class Meta:
        model = Device
        fields = [
            "project", "category", "manufacturer", "name", "model", "serial_number", "location", "installed_on",
            "supplier", "notes", "warranty_start_override", "manufacturer_warranty_end_override",
            "warranty_end_override",
        ]
        widgets = {f: forms.DateInput() for f in ENTERED_DATES}
        field_classes = plausible_form_fields(*ENTERED_DATES)  # issue 20: 2000 to today + 10 years

    def clean_serial_number(self):
        serial = self.cleaned_data["serial_number"].strip()
        if not serial:
            raise forms.ValidationError(_("A serial number is required."))
        return serial

    def clean(self):
        data = super().clean()
        mfr_end, end = data.get("manufacturer_warranty_end_override"), data.get("warranty_end_override")
        if mfr_end and end and mfr_end > end:
            self.add_error("manufacturer_warranty_end_override", _("The manufacturer warranty cannot end after the whole warranty."))
        return data


class DeviceAdminForm(forms.ModelForm):
    """The admin's device form: the same date rule as the pages and the API."""

    class Meta:
        model = Device
        fields = "__all__"
        field_classes = plausible_form_fields(*ENTERED_DATES)
