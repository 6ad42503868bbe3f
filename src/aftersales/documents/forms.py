"""The forms of the document pages: each parses one verb's input; the verb decides (documents/services.py)."""

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.core.forms import style_fields

from . import extract
from .models import DocumentKind, Visibility


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


def file_help() -> str:
    return gettext("Any file up to %(mb)s MB. Text, Word (.docx) and Excel (.xlsx) files can be compared version "
                   "by version. Passwords do not belong here: keep them in your password store.") % {
        "mb": extract.MAX_BYTES // 1024 // 1024}


def file_field():
    return forms.FileField(label=_("File"), allow_empty_file=False, help_text=lazy(file_help, str)())


def note_field():
    return forms.CharField(label=_("What changed"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class DocumentForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of document"), choices=DocumentKind.choices)
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices, initial=Visibility.INTERNAL,
                                   help_text=_("A shared document is seen by the customer's users too."))
    file = file_field()
    note = note_field()


class VersionForm(StyledForm):
    """Every POST carries the document's version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class UploadVersionForm(VersionForm):
    file = file_field()
    note = note_field()


class VisibilityForm(VersionForm):
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices, widget=forms.RadioSelect)
