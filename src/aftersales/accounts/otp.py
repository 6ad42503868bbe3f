"""Optional second factor for staff (issue 20, point 1): a TOTP authenticator app, through django-otp.

- A staff member enrols a device on their own page (views.TwoFactor): a pending device is created, its key shown as
  a QR code and as text, and it is confirmed by one of its codes. It is removed with the password or a code.
- After the password, a user with a confirmed device gives a code (views.TwoFactorVerify) before the session can be
  used: django-otp's OTPMiddleware tells whether the session is verified (`request.user.is_verified()`), and
  SecondFactorMiddleware below sends an unverified session to the code page (pages), answers 403 in JSON (API), and
  lets only that page, logging out and the language switch through.
- AFTERSALES_REQUIRE_ADMIN_OTP=true: an administrator (a superuser, or the administrator role) without a device is
  sent to enrol before anything else, and the Django admin needs a verified session from everyone.
- What a session owes is decided at the login (`remember`, from lockout.on_logged_in) and kept in the session, so a
  request of a user without a device costs no query. A session is rechecked when AFTERSALES_REQUIRE_ADMIN_OTP changes.
  Sessions opened before a device was enrolled elsewhere are not asked for a code until their next login.
- Wrong codes are failed logins for django-axes (Django's `user_login_failed` signal, which axes counts): they count
  toward the same lockout as wrong passwords, and a locked account's session is logged out. The device's own back-off
  (django-otp: 1, 2, 4 … seconds after successive failures) refuses quick retries besides.

`has_device` and `verify` are for the API token endpoint; it counts a wrong code with `record_failure`.
"""

import logging
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import roles

logger = logging.getLogger(__name__)

SESSION_KEY = "aftersales_second_factor"
CODE, ENROL = "code", "enrol"  # what an unverified session owes: a code, or enrolling a device first
DIGITS = 6
DEVICE_NAME = "TOTP"
# URL names an unverified session may still reach, by what it owes.
OPEN_WHILE = {
    CODE: {"accounts:two_factor_verify", "logout", "set_language", "health"},
    ENROL: {"accounts:two_factor", "logout", "set_language", "health"},
}


def clean_code(code) -> str | None:
    """The code without spaces if it is 6 digits, else None."""
    text = "".join(str(code or "").split())
    return text if len(text) == DIGITS and text.isascii() and text.isdigit() else None


def confirmed_device(user) -> TOTPDevice | None:
    if user is None or not user.is_authenticated:
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def pending_device(user) -> TOTPDevice | None:
    if user is None or not user.is_authenticated:
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-pk").first()


def has_device(user) -> bool:
    """Whether the user has a confirmed TOTP device (then a login needs a code too)."""
    if user is None or not user.is_authenticated:
        return False
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def verified_device(user, code: str) -> TOTPDevice | None:
    """The user's confirmed device if `code` is its current code, else None. A code is accepted once; after a wrong
    one the device refuses any code for 1, 2, 4 … seconds (django-otp's throttling)."""
    device, token = confirmed_device(user), clean_code(code)
    if device is None or token is None:
        return None
    return django_otp.verify_token(user, device.persistent_id, token)


def verify(user, code: str) -> bool:
    """Whether `code` is the current code of the user's confirmed device (see `verified_device`). Counting a wrong
    code toward the lockout is the caller's (`record_failure`)."""
    return verified_device(user, code) is not None


def must_wait(user) -> bool:
    """Whether the device refuses codes for now, after recent wrong ones."""
    device = confirmed_device(user)
    return device is not None and not device.verify_is_allowed()[0]


def is_administrator(user) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=roles.ADMINISTRATOR).exists())


def required(user) -> bool:
    """Whether the user must have a device: an administrator while AFTERSALES_REQUIRE_ADMIN_OTP is on."""
    return settings.AFTERSALES_REQUIRE_ADMIN_OTP and is_administrator(user)


def remember(request, user) -> str:
    """Decide what this session owes (CODE, ENROL or "") and keep it in the session; returns it."""
    owed = CODE if has_device(user) else ENROL if required(user) else ""
    request.session[SESSION_KEY] = {"owes": owed, "required": settings.AFTERSALES_REQUIRE_ADMIN_OTP}
    return owed


def owed(request) -> str:
    """What the current session still owes before it can be used: CODE, ENROL or ""."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return ""
    mark = request.session.get(SESSION_KEY)
    if isinstance(mark, dict) and mark.get("required") == settings.AFTERSALES_REQUIRE_ADMIN_OTP:
        owes = mark.get("owes", "")
    else:
        owes = remember(request, user)
    if not owes and settings.AFTERSALES_REQUIRE_ADMIN_OTP and request.path_info.startswith(admin_prefix()):
        owes = ENROL  # the admin needs a verified session from everyone
    return owes


def admin_prefix() -> str:
    return reverse("admin:index")


def credentials(user) -> dict:
    return {"username": user.get_username()}


def record_failure(request, user) -> None:
    """A wrong code: a failed login for django-axes (counted per account and per address, like a wrong password)."""
    logger.info("wrong second factor code for user %s", user.pk)
    user_login_failed.send(sender=__name__, credentials=credentials(user), request=request)


def locked(request, user) -> bool:
    """Whether django-axes has locked this account or address."""
    if not settings.AXES_ENABLED:
        return False
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials(user))


@transaction.atomic
def start_enrolment(user) -> TOTPDevice:
    """A new pending device with a fresh key (any earlier pending one is dropped)."""
    TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm_enrolment(user, code: str) -> TOTPDevice | None:
    """Confirm the pending device with one of its codes; None if the code is wrong (or there is no pending device)."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).select_for_update().order_by("-pk").first()
    token = clean_code(code)
    if device is None or token is None or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.devices_for_user(user, confirmed=False).delete()
    logger.info("second factor enrolled for user %s", user.pk)
    return device


@transaction.atomic
def remove_devices(user, password_or_code: str) -> bool:
    """Remove the user's devices if `password_or_code` is their password or a current code; whether it was."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update().order_by("pk").first()
    if device is None:
        return False
    token = clean_code(password_or_code)
    if not ((token is not None and device.verify_token(token)) or user.check_password(password_or_code)):
        return False
    TOTPDevice.objects.devices_for_user(user, confirmed=None).delete()
    logger.info("second factor removed by user %s", user.pk)
    return True


def step_url(owes: str, next_url: str | None) -> str:
    url = reverse("accounts:two_factor_verify" if owes == CODE else "accounts:two_factor")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware: an unverified session that owes a code (or, for an administrator when it is
    required, a device) reaches only the page that takes it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        owes = owed(request)
        if owes and not self.open_while(owes, request.path_info):
            return self.refuse(request, owes)
        return self.get_response(request)

    @staticmethod
    def open_while(owes: str, path: str) -> bool:
        try:
            match = resolve(path)
        except Resolver404:
            return False
        return match.view_name in OPEN_WHILE[owes]

    @staticmethod
    def refuse(request, owes: str):
        if request.path_info.startswith("/api/"):
            detail = (_("Enter the code from your authenticator app first.") if owes == CODE
                      else _("Set up two-factor authentication first."))
            return JsonResponse({"code": "second_factor_required", "detail": detail}, status=403)
        next_url = request.get_full_path() if request.method == "GET" else None
        url = step_url(owes, next_url)
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(url)
        return redirect(url)
