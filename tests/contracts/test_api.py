"""CUS-4 API: contracts, periods, renewals, notice and "covered on day D?" — scoped like projects, with the API's
one error body: a foreign id in the URL is a 404, in a body a 400 naming the field; a stale version a 409."""

from datetime import date

import pytest

from aftersales.contracts.models import CoveragePeriod, ServiceContract

from ..conftest import api_as
from ..factories import DeviceFactory, ProjectFactory
from .conftest import make_contract

NEW = {"number": "WB-API-1", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "renewal": "tacit",
       "notice_days": 60, "replacement": "restart", "response_tier": "7x24", "amount": "120000.00"}


def test_lists_are_scoped_like_projects(contract_a, contract_b, dispatcher, customer_user_a, customer_user_b,
                                        general_manager):
    def numbers(user, url="/api/contracts/"):
        return [row["number"] for row in api_as(user).get(url).json()["results"]]

    assert numbers(dispatcher) == numbers(customer_user_a) == ["WB-2026-001"]
    assert numbers(customer_user_b) == ["WB-SH-2026-001"]
    assert sorted(numbers(general_manager)) == ["WB-2026-001", "WB-SH-2026-001"]
    periods = api_as(customer_user_a).get("/api/contract-periods/").json()["results"]
    assert [p["contract"] for p in periods] == [contract_a.pk]
    assert api_as(customer_user_a).get(f"/api/contracts/{contract_b.pk}/").status_code == 404
    assert api_as(dispatcher).get(f"/api/contract-periods/{contract_b.periods.get().pk}/").status_code == 404


def test_a_contract_reads_with_its_periods(contract_a, dispatcher):
    body = api_as(dispatcher).get(f"/api/contracts/{contract_a.pk}/").json()
    assert (body["customer"], body["project"], body["whole_project"], body["devices"]) == (
        contract_a.project.customer_id, contract_a.project_id, True, [])
    [period] = body["periods"]
    assert (period["starts_on"], period["ends_on"], period["notice_by"], period["renewed_by"]) == (
        "2026-01-01", "2026-12-31", "2026-12-01", None)


def test_the_desk_creates_a_contract_with_its_first_period(project_a, device_a, dispatcher):
    response = api_as(dispatcher).post("/api/contracts/", NEW | {"project": project_a.pk, "devices": [device_a.pk],
                                                                 "covers_parts": False}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["whole_project"], body["devices"], body["amount"], body["renewal"]) == (
        False, [device_a.pk], "120000.00", "tacit")
    assert [(p["starts_on"], p["covers_parts"], p["response_tier"]) for p in body["periods"]] == [
        ("2026-01-01", False, "7x24")]


@pytest.mark.parametrize(("change", "field"), [
    ({"ends_on": "2025-12-31"}, "ends_on"),
    ({"starts_on": "1970-01-01"}, "starts_on"),
    ({"ends_on": "9999-12-31"}, "ends_on"),
    ({"notice_days": 400}, "notice_days"),
    ({"amount": "-1"}, "amount"),
    ({"response_tier": "always"}, "response_tier"),
    ({"renewal": "perhaps"}, "renewal"),
    ({"number": ""}, "number"),
    ({"number": "WB-2026-001"}, "number"),
    ({"project": None}, "project"),
])
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(project_a, dispatcher, contract_a, change, field):
    response = api_as(dispatcher).post("/api/contracts/", NEW | {"project": project_a.pk} | change, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert ServiceContract.objects.count() == 1


def test_a_foreign_project_or_device_is_a_400(project_a, project_b, device_b, dispatcher):
    client = api_as(dispatcher)
    response = client.post("/api/contracts/", NEW | {"project": project_b.pk}, format="json")
    assert response.status_code == 400 and "project" in response.json()["fields"]
    response = client.post("/api/contracts/", NEW | {"project": project_a.pk, "devices": [device_b.pk]}, format="json")
    assert response.status_code == 400 and "devices" in response.json()["fields"]
    # a device the dispatcher may see, but of another project of the branch
    other = DeviceFactory(project=ProjectFactory(customer=project_a.customer))
    response = client.post("/api/contracts/", NEW | {"project": project_a.pk, "devices": [other.pk]}, format="json")
    assert response.status_code == 400 and "devices" in response.json()["fields"]
    assert not ServiceContract.objects.exists()


def test_readers_cannot_write(contract_a, engineer, customer_user_a, general_manager, project_a):
    for user in (engineer, customer_user_a, general_manager):
        client = api_as(user)
        assert client.post("/api/contracts/", NEW | {"project": project_a.pk}, format="json").status_code in (400, 403)
        assert client.patch(f"/api/contracts/{contract_a.pk}/", {"version": 1, "notes": "x"}, format="json").status_code == 403
        assert client.post(f"/api/contracts/{contract_a.pk}/renew/", {"version": 1}, format="json").status_code == 403
        assert client.post(f"/api/contracts/{contract_a.pk}/cancel/", {"version": 1, "reason": "x"},
                           format="json").status_code == 403
    assert contract_a.periods.count() == 1


def test_renew_through_the_api_adds_a_period_once_and_a_stale_version_is_a_409(contract_a, dispatcher):
    client = api_as(dispatcher)
    response = client.post(f"/api/contracts/{contract_a.pk}/renew/", {"version": contract_a.version}, format="json")
    assert response.status_code == 201, response.json()
    renewal = response.json()
    assert (renewal["starts_on"], renewal["ends_on"], renewal["renews"]) == ("2027-01-01", "2027-12-31",
                                                                             contract_a.periods.first().pk)
    stale = client.post(f"/api/contracts/{contract_a.pk}/renew/", {"version": contract_a.version}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    first = contract_a.periods.order_by("starts_on").first()
    again = client.post(f"/api/contract-periods/{first.pk}/renew/", {"version": contract_a.version + 1}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")
    assert contract_a.periods.count() == 2
    body = client.get(f"/api/contracts/{contract_a.pk}/").json()
    assert [p["renewed_by"] for p in body["periods"]] == [renewal["id"], None]


def test_renew_with_a_start_inside_the_period_is_a_400(contract_a, dispatcher):
    response = api_as(dispatcher).post(f"/api/contracts/{contract_a.pk}/renew/",
                                       {"version": contract_a.version, "starts_on": "2026-06-01"}, format="json")
    assert response.status_code == 400 and "starts_on" in response.json()["fields"]


def test_notice_through_the_api_then_no_renewal(contract_a, dispatcher, frozen_clock):
    client = api_as(dispatcher)
    response = client.post(f"/api/contracts/{contract_a.pk}/cancel/",
                           {"version": contract_a.version, "reason": "客户书面通知"}, format="json")
    assert response.status_code == 200 and response.json()["cancelled_on"] == "2026-11-26"
    refused = client.post(f"/api/contracts/{contract_a.pk}/renew/", {"version": response.json()["version"]},
                          format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "illegal_transition")


def test_changing_terms_and_devices(contract_a, dispatcher, device_a):
    client = api_as(dispatcher)
    response = client.patch(f"/api/contracts/{contract_a.pk}/",
                            {"version": contract_a.version, "devices": [device_a.pk], "notice_days": 90}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["devices"], response.json()["whole_project"], response.json()["notice_days"]) == (
        [device_a.pk], False, 90)
    stale = client.patch(f"/api/contracts/{contract_a.pk}/", {"version": contract_a.version, "notes": "x"},
                         format="json")
    assert stale.status_code == 409
    assert client.put(f"/api/contracts/{contract_a.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"/api/contracts/{contract_a.pk}/").status_code == 405


def test_correcting_a_period_through_the_api(contract_a, dispatcher):
    period = contract_a.periods.get()
    client = api_as(dispatcher)
    response = client.patch(f"/api/contract-periods/{period.pk}/", {"version": period.version, "ends_on": "2026-11-30"},
                            format="json")
    assert response.status_code == 200 and response.json()["ends_on"] == "2026-11-30"
    backwards = client.patch(f"/api/contract-periods/{period.pk}/", {"version": period.version + 1,
                                                                     "ends_on": "2025-11-30"}, format="json")
    assert backwards.status_code == 400 and "ends_on" in backwards.json()["fields"]


def test_periods_filter_by_contract_day_and_ending_within(contract_a, project_a, dispatcher, frozen_clock):
    later = make_contract(project_a, dispatcher, number="WB-LATER", starts_on=date(2027, 1, 1),
                          ends_on=date(2027, 12, 31))
    client = api_as(dispatcher)

    def ids(**params):
        response = client.get("/api/contract-periods/", params)
        assert response.status_code == 200, response.json()
        return [p["contract"] for p in response.json()["results"]]

    assert ids(on="2027-03-01") == [later.pk]
    assert ids(ending_within=40) == [contract_a.pk]
    assert ids(contract=later.pk) == [later.pk]
    assert client.get("/api/contract-periods/", {"on": "0001-01-01"}).status_code == 400
    assert client.get("/api/contracts/", {"ending_within": "-3"}).status_code == 400
    assert [c["number"] for c in client.get("/api/contracts/", {"ending_within": 40}).json()["results"]] == [
        "WB-2026-001"]


# ------------------------------------------------------------------------------------------- covered on day D?

@pytest.fixture
def warranty_device(customer_a):
    """Accepted 2023-06-01: manufacturer warranty through 2025-05-31, the extension through 2026-05-31."""
    return DeviceFactory(project=ProjectFactory(customer=customer_a, accepted_on=date(2023, 6, 1)))


@pytest.mark.parametrize(("day", "covered", "kinds"), [
    ("2023-05-31", False, []),
    ("2025-05-31", True, ["manufacturer"]),
    ("2025-06-01", True, ["integrator"]),
    ("2026-05-31", True, ["integrator"]),
    ("2026-06-01", True, ["contract"]),
    ("2026-07-01", False, []),
])
def test_covered_on_a_day(warranty_device, dispatcher, day, covered, kinds):
    make_contract(warranty_device.project, dispatcher, number="WB-JUNE", starts_on=date(2026, 6, 1),
                  ends_on=date(2026, 6, 30), covers_parts=False, response_tier="office_hours")
    body = api_as(dispatcher).get(f"/api/devices/{warranty_device.pk}/coverage/", {"on": day}).json()
    assert (body["on"], body["covered"], [p["kind"] for p in body["periods"]]) == (day, covered, kinds)
    if kinds == ["contract"]:
        assert (body["covers_parts"], body["covers_labour"], body["response_tier"]) == (False, True, "office_hours")
        assert body["periods"][0]["contract_number"] == "WB-JUNE"


def test_coverage_defaults_to_today_and_answers_only_for_visible_devices(warranty_device, device_b, customer_user_a,
                                                                         customer_user_b, frozen_clock):
    body = api_as(customer_user_a).get(f"/api/devices/{warranty_device.pk}/coverage/").json()
    assert (body["on"], body["covered"]) == ("2026-11-26", False)
    assert api_as(customer_user_b).get(f"/api/devices/{warranty_device.pk}/coverage/").status_code == 404
    assert api_as(customer_user_a).get(f"/api/devices/{device_b.pk}/coverage/").status_code == 404


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "0001-01-01", "9999-12-31"])
def test_a_bad_day_is_a_400_naming_on(warranty_device, dispatcher, value):
    response = api_as(dispatcher).get(f"/api/devices/{warranty_device.pk}/coverage/", {"on": value})
    assert response.status_code == 400 and "on" in response.json()["fields"]


def test_anonymous_callers_are_refused(api, warranty_device, contract_a):
    assert api.get(f"/api/devices/{warranty_device.pk}/coverage/").status_code in (401, 403)
    assert api.get("/api/contracts/").status_code in (401, 403)


def test_the_contract_list_costs_the_same_for_2_or_20_contracts(project_a, dispatcher, device_a,
                                                                 django_assert_max_num_queries):
    for n in range(20):
        contract = make_contract(project_a, dispatcher, number=f"WB-Q-{n}", devices=[device_a] if n % 2 else [])
        if n % 4 == 0:
            CoveragePeriod.objects.create(contract=contract, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31),
                                          renews=contract.periods.get())
    client = api_as(dispatcher)
    with django_assert_max_num_queries(8):  # user's permissions (2), count, page, periods, devices
        response = client.get("/api/contracts/", {"page_size": 50})
    assert len(response.json()["results"]) == 20


def test_the_period_list_costs_the_same_for_2_or_20_periods(project_a, dispatcher, django_assert_max_num_queries):
    for n in range(10):
        contract = make_contract(project_a, dispatcher, number=f"WB-P-{n}")
        CoveragePeriod.objects.create(contract=contract, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31),
                                      renews=contract.periods.get())
    client = api_as(dispatcher)
    with django_assert_max_num_queries(5):  # user's permissions (2), count, page with contracts and renewals
        body = client.get("/api/contract-periods/", {"page_size": 50}).json()
    assert len(body["results"]) == 20
    assert sum(1 for p in body["results"] if p["renewed_by"]) == 10
