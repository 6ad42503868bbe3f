"""The forms of the knowledge pages: each parses one verb's input; the verb decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.assets.models import DeviceCategory, Manufacturer
from aftersales.core.forms import style_fields

from .selectors import MAX_LENGTH


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class VersionForm(StyledForm):
    """Every POST carries the version the user saw; a stale one is a conflict, never a silent overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class NoteForm(VersionForm):
    note = forms.CharField(label=_("Note to the author"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


def text_area(label, *, required=True, rows=4, help_text=""):
    return forms.CharField(label=label, required=required, max_length=8000, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class ArticleForm(StyledForm):
    """Write or edit an article (the catalogues of manufacturers and categories are shared by every branch)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    symptom = text_area(_("Symptom"), help_text=_("The fault as the user sees it."))
    cause = text_area(_("Cause"), required=False, rows=3)
    fix = text_area(_("Fix"), rows=6, help_text=_("The steps, one per line."))
    manufacturer = forms.ModelChoiceField(label=_("Manufacturer"), required=False,
                                          queryset=Manufacturer.objects.order_by("name"))
    device_models = forms.CharField(label=_("Device models"), required=False, max_length=500,
                                    help_text=_("Several models separated by commas, e.g. DS-2CD3T46WDV3-I3, "
                                                "DH-IPC-HFW4433M."))
    category = forms.ModelChoiceField(label=_("Device category"), required=False,
                                      queryset=DeviceCategory.objects.order_by("name"))
    customer_visible = forms.BooleanField(label=_("Visible to customers"), required=False,
                                          help_text=_("Shown in the portal next to the report form once published."))


class EditArticleForm(ArticleForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_LENGTH)
