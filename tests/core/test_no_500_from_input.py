"""Issue 20, point 3 (part): the inputs that answered 500 answer a clear 4xx, fixed at their root: one id converter
for routes, one plausibility rule for dates, a bounded JSON depth, JSON error bodies for API clients."""

import json

import pytest
from django.test import Client

from ..conftest import api_as

HUGE = "9" * 20  # beyond the databases' 64-bit keys


@pytest.fixture
def anonymous_api():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/api/requests/false/attachments/", "/api/requests/false/reply/",
                                 f"/api/requests/{HUGE}/", "/api/devices/x/", "/api/nothing-here/"])
def test_an_id_that_is_no_row_id_and_an_unknown_api_url_are_a_json_404(client, customer_user_a, dispatcher, url):
    for user in (customer_user_a, dispatcher):
        client.force_login(user)
        response = client.get(url) if "reply" not in url else client.post(url, {"version": 1})
        assert response.status_code == 404, (url, user)
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "not_found" and response.json()["detail"]


@pytest.mark.parametrize("url", [f"/service/{HUGE}/", "/service/12x/", f"/devices/{HUGE}/", f"/customers/{HUGE}/"])
def test_pages_with_an_impossible_id_are_a_404(client, dispatcher, url):
    client.force_login(dispatcher)
    assert client.get(url).status_code == 404


def test_a_huge_id_among_the_devices_of_a_new_request_is_a_field_error(dispatcher, project_a):
    response = api_as(dispatcher).post("/api/requests/", {
        "project": project_a.pk, "priority": "general", "title": "t", "description": "d", "devices": [2**64]},
        format="json")
    assert response.status_code == 400 and "devices" in response.json()["fields"]


@pytest.mark.parametrize(("query", "field"), [
    (f"branch={HUGE}", "branch"), ("at=0001-01-01T00:00:00Z", "at"), ("at=2026-02-30T10:00:00Z", "at"),
    ("at=9999-01-01T00:00:00Z", "at")])
def test_on_duty_refuses_impossible_branches_and_dates(dispatcher, query, field):
    response = api_as(dispatcher).get(f"/api/shifts/on-duty/?{query}")
    assert response.status_code == 400 and field in response.json()["fields"]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31T00:00:00Z", "1970-01-01"])
def test_request_list_refuses_implausible_dates(dispatcher, value):
    response = api_as(dispatcher).get("/api/requests/", {"created_after": value})
    assert response.status_code == 400 and "created_after" in response.json()["fields"]


def test_a_plausible_date_still_filters(dispatcher):
    assert api_as(dispatcher).get("/api/requests/", {"created_after": "2026-01-01"}).status_code == 200


@pytest.mark.parametrize("depth", [40, 5000])
def test_deeply_nested_json_is_a_400_also_for_anonymous_clients(anonymous_api, dispatcher, project_a, depth):
    nested = "[" * depth + "]" * depth
    response = anonymous_api.post("/api/auth/token/", nested, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    body = json.dumps({"project": project_a.pk, "priority": "general", "title": "t", "description": "d",
                       "devices": json.loads("[" * 39 + "]" * 39) if depth < 100 else []})
    if depth < 100:
        assert api_as(dispatcher).post("/api/requests/", body, content_type="application/json").status_code == 400


@pytest.mark.parametrize("query, field", [("year=9999", "year"), ("year=0001", "year"), ("month=9999-12", "month"),
                                          ("month=0001-01", "month")])
def test_the_compliance_report_refuses_impossible_periods(dispatcher, query, field):
    answer = api_as(dispatcher).get(f"/api/reports/sla-compliance/?{query}")
    assert answer.status_code == 400 and field in answer.json()["fields"]
