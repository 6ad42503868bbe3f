"""The forms of the training pages: each parses one verb's input; the verb decides."""

import base64
import binascii
import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from aftersales.core import clock
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateField, PlausibleDateTimeField
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from .models import RATING_MAX, RATING_MIN, SessionKind, Venue
from .services import MAX_ATTENDEES, SIGNATURE_MAX_BYTES, AttendeeIn

SEPARATORS = re.compile(r"\s*[,，;；\t]\s*")
RATING_CHOICES = [(n, str(n)) for n in range(RATING_MAX, RATING_MIN - 1, -1)]


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    """Every POST carries the version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


def datetime_field(label):
    return PlausibleDateTimeField(label=label, widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                          format="%Y-%m-%dT%H:%M"),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


def text_area(label, *, required=True, rows=3, help_text=""):
    return forms.CharField(label=label, required=required, max_length=4000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


def parse_people(text: str) -> list[AttendeeIn]:
    """One person a line: name, position, phone (separated by commas, semicolons or tabs, as pasted from a sheet)."""
    people = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = SEPARATORS.split(line.strip(), maxsplit=2) + ["", ""]
        name, role, phone = parts[0].strip(), parts[1].strip(), parts[2].strip()
        if not name:
            raise forms.ValidationError(_("Every line starts with a name: %(line)s") % {"line": line.strip()[:50]})
        if len(name) > 100 or len(role) > 100 or len(phone) > 40:
            raise forms.ValidationError(_("A name, position or phone is too long: %(line)s") % {"line": line.strip()[:50]})
        people.append(AttendeeIn(name=name, role=role, phone=phone))
    if len(people) > MAX_ATTENDEES:
        raise forms.ValidationError(_("At most %(n)s attendees.") % {"n": MAX_ATTENDEES})
    return people


def people_field(label, help_text):
    return forms.CharField(label=label, required=False, max_length=20000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("Wang Fang, duty officer, 13900000000")}))


def staff_choices(user):
    """Our trainers: active staff the user may see (their branch; everyone for those who see all branches)."""
    return visible(get_user_model().objects.filter(customer__isnull=True, is_active=True), user).order_by(
        "full_name", "username", "pk")


class SessionForm(StyledForm):
    """Plan a session (with `project` and the invited attendees) or, with `version`, change the plan of one."""

    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of training"), choices=SessionKind.choices, widget=forms.RadioSelect)
    venue = forms.ChoiceField(label=_("Venue"), choices=Venue.choices, widget=forms.RadioSelect)
    place = forms.CharField(label=_("Place"), max_length=200, required=False, help_text=_("Address or room."))
    starts_at = datetime_field(_("Starts at"))
    ends_at = datetime_field(_("Ends at"))
    content = text_area(_("Content"), rows=4, help_text=_("Topics, one per line."))
    trainers = forms.ModelMultipleChoiceField(label=_("Our trainers"), queryset=get_user_model().objects.none(),
                                              required=False, widget=forms.CheckboxSelectMultiple)
    vendor_trainers = forms.CharField(label=_("Vendor's trainers"), max_length=300, required=False,
                                      help_text=_("Names and company of the manufacturer's trainers, separated by "
                                                  "commas."))
    attendees = people_field(_("Attendees (the customer's staff)"),
                             _("One person a line: name, position, phone."))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1, required=False)

    def __init__(self, *args, user, session=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trainers"].queryset = staff_choices(user)
        self.fields["trainers"].label_from_instance = lambda u: u.display_name
        if session is None:
            self.fields["project"].queryset = visible(Project.objects.select_related("customer"), user).order_by(
                "name", "pk")
            del self.fields["version"]
        else:  # a change of plan: the project stays, attendees are invited one by one
            del self.fields["project"], self.fields["attendees"]
            self.fields["version"].required = True

    def clean_attendees(self):
        return parse_people(self.cleaned_data["attendees"])

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("A session must end after it starts."))
        return data


class AttendeeForm(VersionForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    role = forms.CharField(label=_("Position"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class RemoveAttendeeForm(VersionForm):
    attendee = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class HeldForm(VersionForm):
    present = forms.ModelMultipleChoiceField(label=_("Present"), queryset=None, required=False,
                                             widget=forms.CheckboxSelectMultiple)
    walk_ins = people_field(_("Also present (not invited)"), _("One person a line: name, position, phone."))
    summary = text_area(_("What was covered"), required=False)

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = session.attendees.order_by("pk")
        self.fields["present"].label_from_instance = lambda a: " · ".join(filter(None, [a.name, a.role, a.phone]))

    def clean_walk_ins(self):
        return parse_people(self.cleaned_data["walk_ins"])


class ReasonForm(VersionForm):
    reason = text_area(_("Reason"), rows=2)


class MaterialForm(StyledForm):
    file = forms.FileField(label=_("File"), help_text=_("Slides, a manual or a handout: images, PDF, ZIP or text, "
                                                        "at most 10 MB."))


class FeedbackFields(StyledForm):
    """The customer's written feedback (评价, 意见, a rating), the signer's name and the signature drawn on screen."""

    evaluation = text_area(_("Evaluation of the training"), rows=3)
    opinions = text_area(_("Opinions and suggestions"), required=False, rows=2)
    rating = forms.TypedChoiceField(label=_("Rating"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect)
    signer_name = forms.CharField(label=_("Name of the signer"), max_length=100)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_signature(self):
        """The signature pad's PNG as a data URL; empty is left to the verb ("Please sign in the box.")."""
        value = self.cleaned_data["signature"]
        if not value:
            return None
        prefix = "data:image/png;base64,"
        if not value.startswith(prefix):
            raise forms.ValidationError(_("Please sign in the box."))
        try:
            png = base64.b64decode(value[len(prefix):], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("The signature could not be read. Please sign again.")) from None
        if len(png) > SIGNATURE_MAX_BYTES:
            raise forms.ValidationError(_("The signature could not be read. Please sign again."))
        return ContentFile(png, name="signature.png")


class FeedbackForm(FeedbackFields):
    """On our screen or in the portal: with the session's version the signer saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class ChecklistItemForm(StyledForm):
    capability = forms.CharField(label=_("Capability"), max_length=200,
                                 help_text=_("What the customer's staff must be able to do alone."))


class DemonstratedForm(VersionForm):
    demonstrated_by = forms.CharField(label=_("Demonstrated by"), max_length=100,
                                      help_text=_("The customer's staff member who did it alone."))
    demonstrated_on = PlausibleDateField(label=_("On"), widget=forms.DateInput())
    session = forms.ModelChoiceField(label=_("In the session"), queryset=None, required=False,
                                     empty_label=_("Not in a session (during the monitoring)"))
    note = text_area(_("Note"), required=False, rows=2)

    def __init__(self, *args, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions
        self.fields["session"].label_from_instance = lambda s: f"{s.number} {s.title} · {s.starts_at.astimezone(clock.SHANGHAI):%Y-%m-%d}"
