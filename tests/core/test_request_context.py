"""core.request_context: the address and correlation id of the request being served, as auditlog records them, for
the verbs' timeline lines; nothing outside a request."""

import pytest
from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from aftersales.core.middleware import RequestContextMiddleware
from aftersales.core.request_context import request_context, request_port


def served(request, *, fail: bool = False) -> list:
    """Pass `request` through auditlog's middleware and ours, as settings.MIDDLEWARE orders them; returns what the
    view saw."""
    seen = []

    def view(request):
        seen.append((request_context(), request_port()))
        if fail:
            raise RuntimeError("the view failed")
        return HttpResponse()

    AuditlogMiddleware(RequestContextMiddleware(view))(request)
    return seen


def test_ours_comes_after_auditlogs_middleware_which_reads_the_correlation_id():
    middleware = settings.MIDDLEWARE
    assert middleware.index("auditlog.middleware.AuditlogMiddleware") < middleware.index(
        "aftersales.core.middleware.RequestContextMiddleware")


def test_outside_a_request_there_is_nothing():
    assert request_context() == (None, None) and request_port() is None


@pytest.mark.parametrize(("meta", "address", "port"), [
    ({"REMOTE_ADDR": "192.0.2.4"}, "192.0.2.4", None),
    ({"HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.1", "HTTP_X_FORWARDED_PORT": "8443"}, "203.0.113.9", 8443),
    ({"HTTP_X_FORWARDED_FOR": "198.51.100.7:5555"}, "198.51.100.7", None),
    ({"HTTP_X_FORWARDED_FOR": "[2001:db8::1]:443", "HTTP_X_FORWARDED_PORT": "x"}, "2001:db8::1", None),
])
def test_the_address_is_read_as_auditlog_reads_it(settings, meta, address, port):
    settings.AUDITLOG_CID_HEADER = "x-correlation-id"
    request = RequestFactory().get("/", HTTP_X_CORRELATION_ID="cid-7", **meta)
    assert served(request) == [((address, "cid-7"), port)]
    assert request_context() == (None, None)  # reset when the request ends


def test_without_a_correlation_header_there_is_no_correlation_id(settings):
    settings.AUDITLOG_CID_HEADER = "x-correlation-id"
    assert served(RequestFactory().get("/")) == [(("127.0.0.1", None), None)]


def test_no_address_when_auditlog_records_none(settings):
    settings.AUDITLOG_DISABLE_REMOTE_ADDR = True
    assert served(RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.9"))[0][0][0] is None


def test_reset_also_when_the_view_fails():
    with pytest.raises(RuntimeError, match="the view failed"):
        served(RequestFactory().get("/"), fail=True)
    assert request_context() == (None, None)
