"""The forms of findings (INS-4) and the inspection report (INS-5): each parses one verb's input; the verb decides."""

import base64
import binascii

from django import forms
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from .forms import StyledForm, VersionForm
from .reports import SIGNATURE_MAX_BYTES


FINDING_ACTIONS = (("request", _("Open a service request")), ("repair", _("Open a repair case")),
                   ("dismiss", _("Dismiss")))


class FindingActionForm(VersionForm):
    """One action on one finding of the round (its id and version as seen)."""

    finding = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    action = forms.ChoiceField(choices=FINDING_ACTIONS, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why nothing more is needed"), max_length=4000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class IssueReportForm(StyledForm):
    evaluation = forms.CharField(label=_("Evaluation"), max_length=8000, widget=forms.Textarea(attrs={"rows": 4}))
    suggestions = forms.CharField(label=_("Improvement suggestions"), max_length=8000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)


class ReportSignFields(StyledForm):
    """The signer's name, an optional comment and the signature drawn on screen (the pad's PNG as a data URL)."""

    comment = forms.CharField(label=_("Your comment (optional)"), max_length=4000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    signer_name = forms.CharField(label=_("Name of the signer"), max_length=100)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_signature(self):
        """Empty is left to the verb ("Please sign in the box.")."""
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


class ReportSignForm(ReportSignFields):
    """On our screen or in the portal: with the report's version the signer saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
