"""Issue 20, point 4 (part): a database that stays locked answers 503 with Retry-After (JSON for API clients),
and nothing is written."""

from django.db import OperationalError
from django.urls import reverse

from aftersales.core.busy import is_busy
from aftersales.service import verbs
from aftersales.service.models import ServiceRequest

from ..conftest import api_as


def locked(*args, **kwargs):
    raise OperationalError("database is locked")


def test_an_api_write_on_a_locked_database_is_a_503_with_retry_after(monkeypatch, dispatcher, project_a):
    monkeypatch.setattr(verbs, "open_request", locked)
    response = api_as(dispatcher).post("/api/requests/", {"project": project_a.pk, "priority": "general",
                                                          "title": "t", "description": "d"}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["code"] == "busy"
    assert not ServiceRequest.objects.exists()


def test_a_page_on_a_locked_database_is_a_503_page(monkeypatch, client, dispatcher, project_a):
    request_obj = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                                     title="t", description="d")
    monkeypatch.setattr(verbs, "cancel", locked)
    client.force_login(dispatcher)
    response = client.post(reverse("service:cancel", args=[request_obj.pk]),
                           {"version": request_obj.version, "reason": "重复报修"})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    request_obj.refresh_from_db()
    assert request_obj.state == "new"


def test_what_counts_as_busy():
    class LockTimeout(Exception):
        sqlstate = "55P03"

    timed_out = OperationalError("canceling statement due to lock timeout")
    timed_out.__cause__ = LockTimeout()
    assert is_busy(OperationalError("database is locked")) and is_busy(timed_out)
    assert not is_busy(OperationalError("no such table: x")) and not is_busy(ValueError("database is locked"))
