"""RPT-1: the report figures over the API, scoped and validated like the pages."""

from datetime import datetime
from zoneinfo import ZoneInfo

from aftersales.service import verbs

from ..conftest import api_as

SH = ZoneInfo("Asia/Shanghai")


def test_each_figure_is_served_to_a_manager(frozen_clock, dispatcher, manager, project_a):
    frozen_clock.move_to(datetime(2026, 3, 31, 23, 30, tzinfo=SH))
    verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone", title="t", description="d")
    client = api_as(manager)
    for name in ("sla_compliance", "escalations", "satisfaction", "inspection_completion", "expiries",
                 "failures_by_model", "warranty_costs"):
        response = client.get("/api/reports/figures/", {"figure": name, "month": "2026-03"})
        assert response.status_code == 200, (name, response.json())
    rows = client.get("/api/reports/figures/", {"figure": "sla_compliance", "month": "2026-03"}).json()["result"]
    assert {(r["target"], r["n"]) for r in rows} >= {("reply", 1)}


def test_bad_input_is_a_400_naming_the_field(manager, customer_user_a, project_b):
    client = api_as(manager)
    assert "figure" in client.get("/api/reports/figures/", {"figure": "nope"}).json()["fields"]
    assert "month" in client.get("/api/reports/figures/", {"month": "2026-13"}).json()["fields"]
    customer = api_as(customer_user_a)
    assert customer.get("/api/reports/figures/", {"figure": "warranty_costs"}).status_code == 400
    assert "customer" in customer.get("/api/reports/figures/", {"customer": project_b.customer_id}).json()["fields"]


def test_an_engineer_or_dispatcher_is_refused(dispatcher):
    assert api_as(dispatcher).get("/api/reports/figures/").status_code == 403
