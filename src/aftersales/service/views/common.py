"""Small helpers shared by the service pages: how a POST ends, how an error answers, what a form shows."""

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from aftersales.core.errors import DomainError

from ..models import PRIORITY_DEFINITIONS, Priority, ServiceRequest, Target


def open_targets_prefetch() -> Prefetch:
    """The running targets of each row in one query: the countdown's warning time and the risk colour."""
    return Prefetch("targets", queryset=Target.objects.filter(started_at__isnull=False, met_at__isnull=True),
                    to_attr="open_targets")


def request_queryset():
    return ServiceRequest.objects.select_related("project__customer", "customer", "assignee", "advisor", "policy")


def priority_choices():
    """Each priority with the seed's definition, shown where the user chooses (SRQ-2)."""
    return [(value, label, PRIORITY_DEFINITIONS[value]) for value, label in Priority.choices]


def add_domain_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def safe_next(http_request, default: str) -> str:
    wanted = http_request.POST.get("next") or http_request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={http_request.get_host()},
                                                  require_https=http_request.is_secure()):
        return wanted
    return default


def done(http_request, url: str) -> HttpResponse:
    """After a successful POST: htmx follows HX-Redirect (the whole page shows the new state), a form redirects."""
    if http_request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def error_status(http_request, status: int) -> int:
    """htmx swaps 409/422 bodies (base.html's htmx-config); a plain form post shows the page with its message."""
    return status if http_request.htmx else 200
