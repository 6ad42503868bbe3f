"""Login lockout (issue 20, point 1): django-axes counts failed logins per account and per address on every way in
(the login page, the admin's login, the API token endpoint) and refuses a locked one with 429 before any password
is hashed (axes.backends.AxesStandaloneBackend, first in AUTHENTICATION_BACKENDS, raises before the next backend
runs). Settings: AXES_* in settings.py.

- The address: REMOTE_ADDR; behind our reverse proxy (AFTERSALES_BEHIND_PROXY) the right-most X-Forwarded-For entry,
  the one the proxy itself appended — the left-most ones are whatever the client sent.
- A successful login forgets that account's failures from that address only (not the address's failures for
  other accounts, which a guesser with one valid account could otherwise clear).
- Pages answer with a page, API clients with {code: "locked_out", detail} in JSON; both 429 with Retry-After.
"""

import ipaddress

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address failures are counted against; None when the request has none (a login
    made in code, e.g. a test's force_login) — PostgreSQL stores addresses in an inet column."""
    raw = ""
    if settings.AFTERSALES_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        raw = forwarded.split(",")[-1].strip() if forwarded else ""
    raw = raw or request.META.get("REMOTE_ADDR", "")
    if raw.startswith("[") and "]" in raw:  # [IPv6]:port
        raw = raw[1:].split("]")[0]
    elif raw.count(":") == 1:  # IPv4:port
        raw = raw.split(":")[0]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def retry_after_s() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_out_detail() -> str:
    minutes = max(1, retry_after_s() // 60)
    return _("Too many failed logins. This account or address is locked for %(minutes)d minutes; "
             "please try again later.") % {"minutes": minutes}


def locked_out_body() -> dict:
    return {"code": "locked_out", "detail": locked_out_detail()}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what a locked login is answered with."""
    if request.path.startswith("/api/"):
        response = JsonResponse(locked_out_body(), status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"detail": locked_out_detail()}, status=429)
    response["Retry-After"] = str(retry_after_s())
    return response


def forget_failures(request, user) -> None:
    """A successful login: this account's failures from this address are forgotten."""
    from axes.helpers import get_client_ip_address
    from axes.models import AccessAttempt

    address = get_client_ip_address(request)
    if address is not None:
        AccessAttempt.objects.filter(username=user.get_username(), ip_address=address).delete()


def on_logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and settings.AXES_ENABLED:
        forget_failures(request, user)
    if request is not None and hasattr(request, "session"):
        from .otp import remember

        remember(request, user)  # whether this session owes a second factor (accounts/otp.py), decided at the login
