"""Repair cases and loans over the API: scoped lists with filters, one POST per step, 400/403/404/409 in the one
error body, nothing written by a refused call."""

from datetime import timedelta

import pytest

from aftersales.repairs import services
from aftersales.repairs.models import Loan, RepairCase, RepairStep
from aftersales.repairs.transitions import TRANSITIONS

from ..conftest import api_as
from ..factories import DeviceFactory, current_version
from .conftest import bring_to


def url(case, step=""):
    return f"/api/repairs/{case.pk}/" + (f"{step.replace('_', '-')}/" if step else "")


def test_every_step_of_the_table_has_its_route():
    from django.urls import reverse

    for name in TRANSITIONS:
        assert reverse(f"repaircase-{name.replace('_', '-')}", args=[1]) == f"/api/repairs/1/{name.replace('_', '-')}/"


def test_a_case_is_opened_and_walked_through_the_vendor_rma_over_the_api(frozen_clock, dispatcher, logistics,
                                                                         engineer, device_a):
    desk, shipping, field = api_as(dispatcher), api_as(logistics), api_as(engineer)
    opened = desk.post("/api/repairs/", {"device": device_a.pk, "fault": "录像机不启动"}, format="json")
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    assert (body["state"], body["opened_from"], body["number"]) == ("diagnosing", "device", f"RP{body['id']:06d}")
    assert set(body["possible"]) == {"repair_on_site", "plan_replacement", "replace", "send_to_vendor", "cancel"}
    case = RepairCase.objects.get(pk=body["id"])
    sent = shipping.post(url(case, "send_to_vendor"), {
        "version": body["version"], "rma_number": "RMA-77", "manufacturer": device_a.manufacturer_id,
        "carrier": "顺丰速运", "tracking_number": "SF1", "sent_on": "2026-11-25"}, format="json")
    assert sent.status_code == 200, sent.json()
    assert sent.json()["rmas"][0]["expected_back_on"] == "2026-12-25"
    back = shipping.post(url(case, "return_from_vendor"), {"version": sent.json()["version"], "verdict": "replaced",
                                                           "returned_serial": "VSN-1"}, format="json")
    assert back.status_code == 200
    done = field.post(url(case, "reinstall"), {"version": back.json()["version"]}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "fixed"
    assert done.json()["replacements"][0]["new_serial"] == "VSN-1"
    closed = desk.post(url(case, "close"), {"version": done.json()["version"]}, format="json").json()
    assert closed["state"] == "closed"
    assert [s["kind"] for s in closed["steps"]] == ["opened", "send_to_vendor", "return_from_vendor", "reinstall", "close"]
    assert [s["actor"] for s in closed["steps"]][1] == logistics.display_name


def test_a_stale_version_is_a_409_and_writes_nothing(case_a, dispatcher):
    before = (RepairStep.objects.count(), current_version(case_a))
    response = api_as(dispatcher).post(url(case_a, "repair_on_site"), {"version": case_a.version - 1 or 99},
                                       format="json")
    assert (response.status_code, response.json()["code"]) == (409, "stale")
    assert (RepairStep.objects.count(), current_version(case_a)) == before


def test_an_illegal_step_is_a_409_saying_what_is_possible(case_a, dispatcher):
    response = api_as(dispatcher).post(url(case_a, "close"), {"version": case_a.version}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")
    detail = response.json()["detail"]
    assert str(TRANSITIONS["close"].label) in detail and str(TRANSITIONS["repair_on_site"].label) in detail


@pytest.mark.parametrize(("step", "data", "field"), [
    ("repair_on_site", {}, "version"),
    ("finish_repair", {"note": ""}, "note"),
    ("plan_replacement", {"source": "nowhere"}, "source"),
    ("replace", {"source": "stock"}, "serial"),
    ("cancel", {}, "reason"),
])
def test_bad_input_is_a_400_naming_the_field(step, data, field, case_a, dispatcher):
    case = bring_to(case_a, "repairing", dispatcher) if step == "finish_repair" else case_a
    body = {"version": current_version(case), **data} if field != "version" else data
    response = api_as(dispatcher).post(url(case, step), body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()


def test_a_replaced_verdict_without_the_serial_is_a_400_on_that_field(case_a, logistics, dispatcher):
    case = bring_to(case_a, "at_vendor", dispatcher)
    response = api_as(logistics).post(url(case, "return_from_vendor"), {"version": case.version, "verdict": "replaced"},
                                      format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["returned_serial"])


@pytest.mark.parametrize(("role", "step", "state"), [
    ("customer_user_a", "repair_on_site", "diagnosing"),
    ("engineer", "send_to_vendor", "diagnosing"),      # logistics ship units to the manufacturer
    ("logistics", "repair_on_site", "diagnosing"),     # and do not repair
    ("customer_user_a", "close", "fixed"),
])
def test_each_step_needs_its_permission(role, step, state, request, case_a, dispatcher, logistics):
    case = bring_to(case_a, state, dispatcher)
    response = api_as(request.getfixturevalue(role)).post(url(case, step), {"version": case.version}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_another_customers_or_branchs_case_is_a_404(case_a, case_b, customer_user_b, dispatcher):
    for user in (customer_user_b, dispatcher):
        client = api_as(user)
        assert client.get(url(case_a if user == customer_user_b else case_b)).status_code == 404
        assert client.post(url(case_a if user == customer_user_b else case_b, "close"), {"version": 1},
                           format="json").status_code in (403, 404)
    assert [c["id"] for c in api_as(customer_user_b).get("/api/repairs/").json()["results"]] == [case_b.pk]


def test_a_customer_reads_their_own_cases_and_loans(frozen_clock, case_a, customer_user_a, dispatcher):
    api_as(dispatcher).post("/api/loans/", {"case": case_a.pk, "version": case_a.version, "unit_serial": "S-1",
                                            "unit_model": "备用机", "due_back_on": "2026-12-01"}, format="json")
    client = api_as(customer_user_a)
    assert client.get(url(case_a)).json()["loans"][0]["unit_serial"] == "S-1"
    assert client.get("/api/loans/").json()["results"][0]["unit_serial"] == "S-1"
    refused = client.post("/api/loans/", {"case": case_a.pk, "version": current_version(case_a), "unit_serial": "S-2",
                                          "unit_model": "x", "due_back_on": "2026-12-01"}, format="json")
    assert refused.status_code == 403


def test_filters(frozen_clock, case_a, project_a, dispatcher, logistics):
    other = services.open_case(by=dispatcher, device=DeviceFactory(project=project_a), fault="x")
    other = bring_to(other, "at_vendor", dispatcher)  # sent today, expected back in 30 days
    client = api_as(dispatcher)

    def ids(query):
        response = client.get(f"/api/repairs/?{query}")
        assert response.status_code == 200, response.json()
        return sorted(c["id"] for c in response.json()["results"])

    assert ids("state=at_vendor") == [other.pk]
    assert ids("state=at_vendor&state=diagnosing") == sorted([case_a.pk, other.pk])
    assert ids(f"q={case_a.number}") == [case_a.pk]
    assert ids(f"q={case_a.device.serial_number}") == [case_a.pk]
    assert ids("overdue=true") == []
    frozen_clock.shift(timedelta(days=31))
    assert ids("overdue=true") == [other.pk]
    assert client.get("/api/repairs/").json()["results"][0]["rma_overdue"] is True
    assert client.get("/api/repairs/?state=lost").status_code == 400


def test_loans_over_the_api_one_open_loan_per_unit_and_no_closing_with_a_loan_out(frozen_clock, case_a, project_a,
                                                                                    dispatcher):
    client = api_as(dispatcher)
    case = bring_to(case_a, "fixed", dispatcher)
    lent = client.post("/api/loans/", {"case": case.pk, "version": case.version, "unit_serial": "spare-9",
                                       "unit_model": "备用机", "due_back_on": "2026-12-01"}, format="json")
    assert lent.status_code == 201 and lent.json()["unit_serial"] == "SPARE-9"
    another = services.open_case(by=dispatcher, device=DeviceFactory(project=project_a), fault="y")
    again = client.post("/api/loans/", {"case": another.pk, "version": another.version, "unit_serial": "SPARE-9",
                                        "unit_model": "备用机", "due_back_on": "2026-12-01"}, format="json")
    assert (again.status_code, again.json()["code"], list(again.json()["fields"])) == (409, "unit_on_loan", ["unit_serial"])
    closing = client.post(url(case, "close"), {"version": current_version(case)}, format="json")
    assert (closing.status_code, closing.json()["code"]) == (409, "loan_open")
    loan = Loan.objects.get(pk=lent.json()["id"])
    back = client.post(f"/api/loans/{loan.pk}/return/", {"version": loan.version}, format="json")
    assert back.status_code == 200 and back.json()["returned_at"]
    assert client.post(url(case, "close"), {"version": current_version(case)}, format="json").json()["state"] == "closed"


def test_a_foreign_case_in_a_loan_is_a_400_not_a_leak(case_b, dispatcher):
    response = api_as(dispatcher).post("/api/loans/", {"case": case_b.pk, "version": 1, "unit_serial": "S",
                                                      "unit_model": "m", "due_back_on": "2026-12-01"}, format="json")
    assert response.status_code == 400 and "case" in response.json()["fields"]


def test_a_device_of_another_project_than_the_request_is_refused(project_a, device_b, customer_user_a, admin_user):
    from aftersales.service import verbs

    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="t", description="d")
    response = api_as(admin_user).post("/api/repairs/", {"device": device_b.pk, "service_request": request.pk,
                                                         "fault": "x"}, format="json")
    assert response.status_code == 400 and "device" in response.json()["fields"]
