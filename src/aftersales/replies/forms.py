"""The canned reply form: the branch only for those who see every branch (others write their own branch's)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import Branch
from aftersales.core.forms import style_fields
from aftersales.core.scoping import EVERYTHING, scope_of


class ReplyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1, required=False)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False,
                                    empty_label=_("Every branch"))
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(label=_("Text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6}))
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if scope_of(user).kind == EVERYTHING:
            self.fields["branch"].queryset = Branch.objects.order_by("name")
        else:
            del self.fields["branch"]
        style_fields(self)
