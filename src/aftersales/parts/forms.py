"""The pages' forms. Each is parsed here and handed to one verb (services.py), which decides; a refusal comes back
as a form error on the field it names."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.assets.models import Manufacturer
from aftersales.core.forms import style_fields

from . import selectors, services
from .models import Location, Part

SERIAL_SEPARATORS = re.compile(r"[\s,，;；、]+")


def split_serials(text: str) -> list[str]:
    """Serial numbers as typed or scanned: one per line, or separated by commas, semicolons or spaces."""
    return [serial for serial in SERIAL_SEPARATORS.split(text or "") if serial]


class PartChoice(forms.ModelChoiceField):
    def label_from_instance(self, part):
        label = f"{part.name} · {part.part_number} ({part.manufacturer.name})"
        return f"{label} [SN]" if part.serial_tracked else label


class LocationChoice(forms.ModelChoiceField):
    def label_from_instance(self, location):
        return f"{location.name} · {location.branch.name}"


class StockForm(forms.Form):
    """A form of a verb: its part and location choices are what the user may see (SEC-1: form choices too)."""

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, LocationChoice):
                field.queryset = selectors.locations(user, active_only=True)
            elif isinstance(field, PartChoice):
                field.queryset = Part.objects.filter(active=True).select_related("manufacturer").order_by("name", "pk")
        style_fields(self)

    def verb_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        if "serials" in data:
            data["serials"] = split_serials(data["serials"])
        return data


def _quantity(label=_("Quantity")):
    return forms.IntegerField(label=label, min_value=1, max_value=services.MAX_QUANTITY, initial=1)


def _serials():
    return forms.CharField(label=_("Serial numbers"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Serial-tracked parts only: one per unit, one per line (or scan them)."))


class ReceiveForm(StockForm):
    part = PartChoice(label=_("Part"), queryset=Part.objects.none())
    location = LocationChoice(label=_("Location"), queryset=Location.objects.none())
    quantity = _quantity()
    unit_cost = forms.DecimalField(label=_("Unit cost (CNY)"), required=False, min_value=0, max_digits=12,
                                   decimal_places=2, help_text=_("Leave empty for the catalogue's purchase cost."))
    supplier = forms.CharField(label=_("Supplier"), max_length=200, required=False)
    reference = forms.CharField(label=_("Delivery note or invoice"), max_length=100, required=False)
    serials = _serials()


class TransferForm(StockForm):
    part = PartChoice(label=_("Part"), queryset=Part.objects.none())
    source = LocationChoice(label=pgettext_lazy("stock transfer", "From"), queryset=Location.objects.none())
    destination = LocationChoice(label=pgettext_lazy("stock transfer", "To"), queryset=Location.objects.none())
    quantity = _quantity()
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    serials = _serials()


class ReserveForm(StockForm):
    """Parts set aside for a planned job: the request's number, what and from where. The job's engineer then uses
    them (their work order's part lines or the van page take from the request's reservation first)."""

    request = forms.CharField(label=_("For the request (number)"), max_length=30)
    part = PartChoice(label=_("Part"), queryset=Part.objects.none())
    location = LocationChoice(label=_("Location"), queryset=Location.objects.none())
    quantity = _quantity()
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def clean_request(self):
        from aftersales.core.scoping import visible
        from aftersales.service.models import OPEN_STATES, ServiceRequest

        number = self.cleaned_data["request"].strip().upper()
        found = visible(ServiceRequest.objects.filter(number=number), self.user).first()
        if found is None:
            raise forms.ValidationError(_("No request of yours has this number."))
        if found.state not in OPEN_STATES:
            raise forms.ValidationError(_("This request has ended: nothing is reserved for it any more."))
        return found


class AdjustForm(StockForm):
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.none())
    location = LocationChoice(label=_("Location"), queryset=Location.objects.none())
    change = forms.IntegerField(label=_("Change"), min_value=-services.MAX_QUANTITY, max_value=services.MAX_QUANTITY,
                                help_text=_("Units found more (e.g. 2) or fewer (e.g. -1) than the ledger says."))
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # a stock take may count an inactive part away too
        self.fields["part"].queryset = Part.objects.select_related("manufacturer").order_by("name", "pk")


class DefectiveForm(StockForm):
    """Logistics at a location: a faulty unit kept there, or defective units shipped to the manufacturer."""

    ACTIONS = [("return", _("Keep a defective unit here")), ("rma", _("Send defective units to the manufacturer"))]
    action = forms.ChoiceField(label=_("What"), choices=ACTIONS)
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.none())
    location = LocationChoice(label=_("Location"), queryset=Location.objects.none())
    quantity = _quantity()
    from_stock = forms.BooleanField(label=_("One of the good units here, found faulty"), required=False)
    reference = forms.CharField(label=_("RMA number or reference"), max_length=100, required=False)
    reason = forms.CharField(label=_("Note"), max_length=2000, required=False)
    serials = _serials()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = Part.objects.select_related("manufacturer").order_by("name", "pk")


class LevelForm(StockForm):
    part = PartChoice(label=_("Part"), queryset=Part.objects.none())
    location = LocationChoice(label=_("Location"), queryset=Location.objects.none())
    minimum = forms.IntegerField(label=_("Minimum"), min_value=0, max_value=services.MAX_QUANTITY)
    target = forms.IntegerField(label=_("Target"), min_value=0, max_value=services.MAX_QUANTITY)


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class UseForm(forms.Form):
    """The engineer's one action on the phone: a part out of their van for a job."""

    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.none())
    quantity = _quantity()
    serials = _serials()
    request = forms.ModelChoiceField(label=_("For the request"), queryset=None, required=False,
                                     empty_label=_("(none)"))
    reference = forms.CharField(label=_("Or another reference (repair case …)"), max_length=100, required=False)

    def __init__(self, *args, parts, requests, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = parts
        self.fields["part"].label_from_instance = lambda part: f"{part.name} · {part.part_number}"
        self.fields["request"].queryset = requests
        self.fields["request"].label_from_instance = lambda r: f"{r.number} {r.title}"
        style_fields(self)
        for name in ("quantity",):
            self.fields[name].widget.attrs.update({"inputmode": "numeric"})


class PartForm(forms.ModelForm):
    class Meta:
        model = Part
        fields = ["manufacturer", "part_number", "name", "unit", "purchase_cost", "serial_tracked", "active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manufacturer"].queryset = Manufacturer.objects.order_by("name")
        style_fields(self)
