"""Issue 21 §13: an ordinary refusal is one log line without a traceback; a crash keeps its traceback; worker lines
are printed once; browsers find a favicon."""

import logging
import sys

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.log import log_response

from aftersales.core.log_filters import ClientErrorsWithoutTraceback


def record_for(status: int) -> logging.LogRecord:
    captured = []

    class Keep(logging.Handler):
        def emit(self, record):
            captured.append(record)

    logger = logging.getLogger("django.request")
    handler = Keep()
    logger.addHandler(handler)
    try:
        try:
            raise PermissionDenied
        except PermissionDenied:
            log_response("Forbidden (Permission denied): %s", "/x/", response=HttpResponse(status=status),
                         request=RequestFactory().get("/x/"), exception=sys.exc_info()[1])
    finally:
        logger.removeHandler(handler)
    return captured[0]


@pytest.mark.parametrize("status, keeps_traceback", [(403, False), (404, False), (500, True)])
def test_client_errors_lose_the_traceback_server_errors_keep_it(status, keeps_traceback):
    record = record_for(status)
    ClientErrorsWithoutTraceback().filter(record)
    assert bool(record.exc_info) is keeps_traceback
    assert record.getMessage().startswith("Forbidden")  # the line itself stays


def test_the_console_handler_filters_and_huey_logs_once():
    console = settings.LOGGING["handlers"]["console"]
    assert "no_client_tracebacks" in console["filters"]
    # run_huey adds its own handler only to a "huey" logger without one: ours is there, and it does not
    # propagate to the root's handler as well
    assert logging.getLogger("huey").handlers and logging.getLogger("huey").propagate is False


def test_a_favicon(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200
    assert 'rel="icon"' in client.get("/login/").content.decode()


@pytest.mark.parametrize("url, loopback", [
    ("http://127.0.0.1:8000", True), ("http://localhost/", True), ("http://[::1]:8000/", True),
    ("https://service.example.cn/", False), ("http://10.0.0.5:8000", False), ("http://service/", False),
])
def test_loopback_site_addresses(url, loopback):
    from aftersales.core.site import is_loopback

    assert is_loopback(url) is loopback


def test_the_label_sheet_and_the_admins_home_warn_of_a_loopback_site_address(client, settings, engineer, admin_user,
                                                                             project_a):
    from django.urls import reverse

    from ..factories import DeviceFactory

    DeviceFactory(project=project_a)
    sheet = reverse("intake:label_sheet", args=[project_a.pk])
    client.force_login(engineer)
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert 'id="loopback-site-url"' in client.get(sheet).content.decode()
    settings.SITE_URL = "https://service.example.cn"
    assert 'id="loopback-site-url"' not in client.get(sheet).content.decode()
    client.force_login(admin_user)
    assert 'id="loopback-site-url"' not in client.get("/").content.decode()
    settings.SITE_URL = "http://localhost:8000"
    assert 'id="loopback-site-url"' in client.get("/").content.decode()
