"""The forms of the inspection pages: each parses one verb's input; the verb decides."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.accounts.models import User
from aftersales.assets.models import Device, DeviceCategory
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateField
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from .models import Cadence, ChecklistTemplate, DeviceSelection, ItemKind


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    """Every POST carries the version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


def phone_time_field():
    """The phone's own time, filled in by round.js when the form is sent (empty: the server's time is used)."""
    return forms.DateTimeField(required=False, widget=forms.HiddenInput(attrs={"data-phone-time": ""}))


def reason_field(label):
    return forms.CharField(label=label, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class StartForm(VersionForm):
    started_at = phone_time_field()


class CompleteForm(VersionForm):
    completed_at = phone_time_field()
    summary = forms.CharField(label=_("Evaluation and suggestions"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class OverrideForm(VersionForm):
    reason = reason_field(_("Why it starts without the customer's approval"))


class MissedReasonForm(VersionForm):
    reason = reason_field(_("Why the round was missed"))


class ReassignForm(VersionForm):
    engineer = forms.ModelChoiceField(label=_("Engineer"), queryset=User.objects.none())

    def __init__(self, *args, engineers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if engineers is not None:
            self.fields["engineer"].queryset = engineers


class SkipDeviceForm(StyledForm):
    device = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    reason = reason_field(_("Why this device was not checked"))


PASSED_CHOICES = [("true", pgettext_lazy("checklist answer", "Pass")), ("false", pgettext_lazy("checklist answer", "Fail"))]


class AnswerForm(StyledForm):
    """One item of one device. `client_id` is made when the form is drawn, so sending the same form twice (a double
    tap, a resend after a lost answer) is one answer."""

    client_id = forms.UUIDField(widget=forms.HiddenInput)
    device = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    item = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    answered_at = phone_time_field()
    passed = forms.TypedChoiceField(label=_("Result"), required=False, choices=PASSED_CHOICES,
                                    coerce=lambda value: value == "true", empty_value=None, widget=forms.RadioSelect)
    reading = forms.DecimalField(label=_("Reading"), required=False, max_digits=12, decimal_places=3,
                                 widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}))
    text = forms.CharField(label=pgettext_lazy("checklist answer", "Answer"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("Photo"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)
    latitude = forms.DecimalField(required=False, max_digits=12, decimal_places=8, min_value=-90, max_value=90,
                                  widget=forms.HiddenInput(attrs={"data-geo": "latitude"}))
    longitude = forms.DecimalField(required=False, max_digits=12, decimal_places=8, min_value=-180, max_value=180,
                                   widget=forms.HiddenInput(attrs={"data-geo": "longitude"}))
    accuracy_m = forms.FloatField(required=False, min_value=0, max_value=100_000,
                                  widget=forms.HiddenInput(attrs={"data-geo": "accuracy"}))

    def __init__(self, *args, item=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.item_obj = item
        if item is not None:  # only the inputs the item asks for (and a photo, always possible)
            keep = {ItemKind.PASS_FAIL: "passed", ItemKind.READING: "reading", ItemKind.TEXT: "text"}.get(item.kind)
            for name in ("passed", "reading", "text"):
                if name != keep:
                    del self.fields[name]
            if item.kind == ItemKind.READING and item.unit:
                self.fields["reading"].label = f"{_('Reading')} ({item.unit})"

    def clean(self):
        data = super().clean()
        for field in ("latitude", "longitude"):
            if data.get(field) is not None:
                data[field] = round(data[field], 6)
        if data.get("accuracy_m") is not None:
            data["accuracy_m"] = round(data["accuracy_m"])
        return data

    @classmethod
    def fresh(cls, check, item):
        return cls(item=item, initial={"client_id": uuid.uuid4(), "device": check.device_id, "item": item.pk},
                   prefix=f"a{check.pk}-{item.pk}")


# ------------------------------------------------------------------------------------------------ plans

class PlanForm(StyledForm):
    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    name = forms.CharField(label=_("Name"), max_length=120)
    cadence = forms.ChoiceField(label=_("Cadence"), choices=Cadence.choices)
    starts_on = PlausibleDateField(label=_("First round on or after"))
    ends_on = PlausibleDateField(label=_("Last round on or before"), required=False)
    anchor_day = forms.IntegerField(label=_("Day of the month"), min_value=1, max_value=31, required=False,
                                    help_text=_("Empty: the first day's. In shorter months, their last day."))
    anchor_month = forms.TypedChoiceField(
        label=_("Month of the quarter"), required=False, coerce=int, empty_value=None,
        choices=[("", _("The first day's")), (0, _("First month")), (1, _("Second month")), (2, _("Third month"))],
        help_text=_("Quarterly plans only."))
    checklists = forms.ModelMultipleChoiceField(label=_("Checklists"), queryset=ChecklistTemplate.objects.none(),
                                                widget=forms.CheckboxSelectMultiple,
                                                help_text=_("One per device category."))
    selection = forms.ChoiceField(label=_("Devices"), choices=DeviceSelection.choices, widget=forms.RadioSelect)
    devices = forms.ModelMultipleChoiceField(label=_("Chosen devices"), required=False,
                                             queryset=Device.objects.none(),
                                             help_text=_("Only when devices are chosen."))
    engineers = forms.ModelMultipleChoiceField(label=_("Engineers"), queryset=User.objects.none(),
                                               widget=forms.CheckboxSelectMultiple,
                                               help_text=_("Rounds are assigned to them in turn."))
    needs_approval = forms.BooleanField(label=_("Customer approval needed before each round"), required=False)
    horizon_days = forms.IntegerField(label=_("Generate ahead (days)"), min_value=7, max_value=400, initial=90)

    def __init__(self, *args, user, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = visible(Project.objects.select_related("customer"), user).order_by("name")
        self.fields["checklists"].queryset = (ChecklistTemplate.objects.filter(is_active=True, current__isnull=False)
                                              .select_related("category").order_by("category__name", "name"))
        self.fields["checklists"].label_from_instance = lambda c: f"{c.category.name} · {c.name}"
        engineers = visible(User.objects.filter(customer__isnull=True, is_active=True,
                                                groups__permissions__codename="do_rounds").distinct(), user)
        devices = visible(Device.objects.select_related("category"), user)
        if plan is not None:
            del self.fields["project"]
            engineers = engineers.filter(branch_id=plan.branch_id)
            devices = devices.filter(project_id=plan.project_id)
        self.fields["engineers"].queryset = engineers.order_by("username")
        self.fields["devices"].queryset = devices.order_by("project_id", "category__name", "name")
        self.fields["devices"].label_from_instance = lambda d: f"{d.category.name} · {d.name} · {d.serial_number}"
        self.fields["devices"].widget.attrs["size"] = 10
        style_fields(self)


class EditPlanForm(PlanForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    is_active = forms.BooleanField(label=_("Active"), required=False)


# ------------------------------------------------------------------------------------------------ checklists

class ChecklistForm(StyledForm):
    category = forms.ModelChoiceField(label=_("Device category"), queryset=DeviceCategory.objects.order_by("name"))
    name = forms.CharField(label=_("Name"), max_length=120)
    note = forms.CharField(label=_("What changed"), max_length=200, required=False)


class ReviseChecklistForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(label=_("In use"), required=False)
    note = forms.CharField(label=_("What changed"), max_length=200, required=False)


class ItemForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ItemKind.choices)
    label = forms.CharField(label=_("Item"), max_length=200)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    min_value = forms.DecimalField(label=_("Lowest"), max_digits=12, decimal_places=3, required=False)
    max_value = forms.DecimalField(label=_("Highest"), max_digits=12, decimal_places=3, required=False)
    evidence_required = forms.BooleanField(label=_("Evidence"), required=False)
    opens_request = forms.BooleanField(label=_("Auto request"), required=False,
                                       help_text=_("A finding on this item opens a service request at once."))


ItemFormSet = forms.formset_factory(ItemForm, extra=3, can_delete=True, max_num=60, validate_max=True)


def items_of(formset) -> list[dict]:
    return [{key: form.cleaned_data[key] for key in ("kind", "label", "unit", "min_value", "max_value",
                                                      "evidence_required", "opens_request")}
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("label")]
