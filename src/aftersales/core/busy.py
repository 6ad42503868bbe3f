"""A database that stays locked (a long writer, a backup, an operator's session) answers 503 with Retry-After, in
JSON for API clients, instead of a 500: the client may try again, and nothing was written (the transaction rolled
back with the error)."""

from django.db import OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

RETRY_AFTER_S = 5
# PostgreSQL: lock_not_available (lock_timeout), deadlock_detected, query_canceled (statement_timeout)
BUSY_SQLSTATES = {"55P03", "40P01", "57014"}


def is_busy(error: Exception) -> bool:
    if not isinstance(error, OperationalError):
        return False
    if "database is locked" in str(error) or "database table is locked" in str(error):
        return True
    return getattr(error.__cause__, "sqlstate", None) in BUSY_SQLSTATES


def busy_body() -> dict:
    return {"code": "busy", "detail": _("The database is busy. Please try again in a few seconds.")}


class DatabaseBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        if request.path.startswith("/api/"):
            response = JsonResponse(busy_body(), status=503)
        else:
            response = render(request, "core/error.html", {"title": busy_body()["detail"]}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_S)
        return response
