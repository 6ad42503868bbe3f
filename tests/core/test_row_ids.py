"""An id from a request that no row can have (too big for the databases' 64-bit keys, non-ASCII digits) is an
unknown id like any other — 400 or 404 — never a 500. Django's own lookups treat such a number as matching
nothing; a query compiled once (core.rows) or run as raw SQL hands it to SQLite, which raises OverflowError."""

import pytest
from django.urls import reverse

from aftersales.core.rows import row_id
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

TOO_BIG = "9" * 30


def test_row_id():
    assert [row_id(v) for v in ("42", 42, "0", TOO_BIG, 2**63, "١", "-1", "4.2", True, None, "")] == [
        42, 42, 0, None, None, None, None, None, None, None, None]


def test_ids_no_row_can_have_are_answered_as_unknown(client, admin_user, dispatcher, customer_user_a, project_a):
    api = api_as(dispatcher)
    assert api.get("/api/reports/sla-compliance/", {"month": "2026-03", "customer": TOO_BIG}).status_code == 400
    assert api.get("/api/shifts/on-duty/", {"branch": TOO_BIG}).status_code == 400
    assert api.get("/api/staff/on-duty/", {"branch": TOO_BIG}).status_code == 404  # no such route: not an id
    client.force_login(customer_user_a)
    assert client.get(reverse("service:device_choices"), {"project": TOO_BIG, "devices": [TOO_BIG]}).status_code == 200
    client.force_login(admin_user)
    assert client.post(reverse("intake:alarm_unmatched"), {"action": "replay", "event": TOO_BIG}).status_code == 404
    assert client.get(reverse("assets:device_import"), {"project": TOO_BIG}).status_code == 404
    assert client.get(reverse("assets:device_create"), {"project": TOO_BIG}).status_code == 200
