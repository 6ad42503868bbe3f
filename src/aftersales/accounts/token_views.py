"""Issue 20, point 1: every user's own API tokens page — list (name, created, expires, last used; never a secret),
issue (the secret is shown once, in the answer to the POST, and never stored) and revoke. One URL: a revocation is a
POST of the list's own form, so the page has no per-token address."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.core.forms import style_fields
from aftersales.core.rows import row_id

from . import tokens


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100,
                           help_text=gettext_lazy("What the token is for, e.g. the monitoring script."))
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        most = tokens.max_days()
        self.fields["days"] = forms.IntegerField(
            label=self.fields["days"].label, min_value=1, max_value=most, initial=most,
            help_text=_("At most %(max)d days.") % {"max": most})
        style_fields(self)


@method_decorator(never_cache, name="dispatch")  # the answer to an issue carries the secret
class ApiTokens(LoginRequiredMixin, View):
    template_name = "accounts/tokens/token_list.html"

    def get(self, request):
        return self.page(ApiTokenForm())

    def post(self, request):
        if "revoke" in request.POST:
            return self.revoke(request)
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, secret = tokens.issue_token(user=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field, error.message)
            else:
                return self.page(ApiTokenForm(), issued=token, secret=secret)
        return self.page(form)

    def revoke(self, request):
        try:
            tokens.revoke_token(user=request.user, token_id=row_id(request.POST["revoke"]))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The API token was revoked. Programs using it are refused from now on."))
        return redirect("accounts:api_tokens")

    def page(self, form, **extra):
        return render(self.request, self.template_name, {
            "form": form, "tokens": tokens.tokens_of(self.request.user), "now": clock.now(),
            "max_days": tokens.max_days(), **extra})
