"""Forms of the login safety pages (issue 20, point 1): password reset by mail, the second factor's codes."""

import hashlib
import logging
import secrets

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.cache import cache
from django.template import loader
from django.utils.translation import gettext_lazy as _

from .otp import clean_code

logger = logging.getLogger(__name__)

# At most this many reset mails per address, and reset requests per client address, within RESET_WINDOW seconds.
# Counted per web process (the default cache is local to it), whether or not the address belongs to an account.
RESETS_PER_ADDRESS = 3
RESETS_PER_CLIENT = 20
RESET_WINDOW = 3600


class StackedFieldsMixin:
    """Bootstrap's classes on every widget: the fields are shown one under the other, as on the login page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


def count_towards(key: str) -> int:
    """One more in the counter `key` (kept RESET_WINDOW seconds from its first count); the new count."""
    if cache.add(key, 1, RESET_WINDOW):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, RESET_WINDOW)
        return 1


def reset_allowed(email: str, client: str | None) -> bool:
    """Whether a reset mail may be sent for `email` asked from `client` (an IP address, or None). Both counters
    grow on every request, whether the address is known or not, so the answer tells nothing about accounts."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    per_address = count_towards(f"password-reset:address:{digest}")
    per_client = count_towards(f"password-reset:client:{client}") if client else 0
    if per_address > RESETS_PER_ADDRESS or per_client > RESETS_PER_CLIENT:
        logger.warning("password reset refused: too many requests (address count %s, client %s count %s)",
                       per_address, client, per_client)
        return False
    return True


class PasswordResetForm(StackedFieldsMixin, auth_forms.PasswordResetForm):
    """Django's form: a mail to every active user with a usable password and this address (none otherwise, with the
    same answer), a single-use link that expires after settings.PASSWORD_RESET_TIMEOUT.

    The mail goes through the outbox as a private e-mail (notify.services.enqueue_private_email): to that address
    only, never to a chat robot or an in-app list, retried by the worker, its text blanked once delivered. The page
    answers as fast whether an account has the address or not (an insert, not an SMTP conversation)."""

    email = forms.EmailField(label=_("Email"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        from aftersales.notify.services import enqueue_private_email

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        user = context["user"]
        enqueue_private_email(event="password_reset", user=user, subject=subject, body=body,
                              dedupe_key=f"password-reset-{user.pk}-{secrets.token_hex(8)}")  # each ask: a mail


class SetPasswordForm(StackedFieldsMixin, auth_forms.SetPasswordForm):
    """The new password, twice, through settings.AUTH_PASSWORD_VALIDATORS."""


class CodeForm(StackedFieldsMixin, forms.Form):
    """A 6-digit code from the authenticator app; spaces are allowed ("123 456")."""

    code = forms.CharField(label=_("Verification code"), max_length=20, widget=forms.TextInput(attrs={
        "inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}))

    def clean_code(self):
        code = clean_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(_("Enter the 6-digit code shown by your authenticator app."))
        return code


class RemoveDeviceForm(StackedFieldsMixin, forms.Form):
    """Turning the second factor off needs the password or a current code. The field is named `password` so that
    django-axes, which keeps the form data of a failed attempt, masks it."""

    password = forms.CharField(label=_("Your password or a current code"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
