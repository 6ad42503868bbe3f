"""CUS-4 pages: contracts for staff of their branch and for the customer's users (read-only), the verbs, and the
device page's coverage card."""

from datetime import date

import pytest
from django.urls import reverse

from aftersales.contracts.models import CoveragePeriod, ServiceContract

from ..factories import DeviceFactory, ProjectFactory
from .conftest import make_contract

HTMX = {"HTTP_HX_REQUEST": "true"}


def page(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    return response, response.content.decode()


def test_the_list_shows_the_branchs_contracts_and_a_customer_its_own(client, contract_a, contract_b, dispatcher,
                                                                     customer_user_a, general_manager, frozen_clock):
    url = reverse("contracts:contract_list")
    _, text = page(client, dispatcher, url)
    assert "WB-2026-001" in text and "WB-SH-2026-001" not in text
    _, text = page(client, customer_user_a, url)
    assert "WB-2026-001" in text and "WB-SH-2026-001" not in text
    assert reverse("contracts:contract_create") not in text  # read-only for customers
    _, text = page(client, general_manager, url)
    assert "WB-2026-001" in text and "WB-SH-2026-001" in text


def test_the_list_filters_by_customer_project_and_ending_within(client, contract_a, project_a, dispatcher,
                                                                 frozen_clock):
    later = make_contract(project_a, dispatcher, number="WB-LATER", starts_on=date(2026, 6, 1),
                          ends_on=date(2027, 5, 31))
    url = reverse("contracts:contract_list")
    _, text = page(client, dispatcher, url, ending_within=60)  # 2026-11-26 + 60 days: the 2026 contract only
    assert "WB-2026-001" in text and later.number not in text
    _, text = page(client, dispatcher, url, ending_within=365)
    assert "WB-2026-001" in text and later.number in text
    response, text = page(client, dispatcher, url, ending_within=-1)
    assert response.status_code == 200 and "invalid-feedback" in text
    _, text = page(client, dispatcher, url, customer=project_a.customer_id, project=project_a.pk, sort="-ends")
    assert text.index(later.number) < text.index("WB-2026-001")


@pytest.mark.parametrize("n", [3, 30])
def test_the_list_costs_the_same_for_3_or_30_contracts(n, client, project_a, dispatcher, device_a,
                                                        django_assert_max_num_queries):
    for i in range(n):
        contract = make_contract(project_a, dispatcher, number=f"WB-{i:03d}", devices=[device_a] if i % 2 else [])
        if i % 3 == 0:
            CoveragePeriod.objects.create(contract=contract, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31),
                                          renews=contract.periods.get())
    client.force_login(dispatcher)
    client.get(reverse("contracts:contract_list"))  # the filter's choices are kept per worker (core.filters)
    # session, user, the user's permissions, the count, the page with its latest periods and devices as columns
    with django_assert_max_num_queries(6):
        response = client.get(reverse("contracts:contract_list"), {"size": 50})
    assert response.status_code == 200 and response.content.decode().count("/contracts/") >= n


def test_the_detail_shows_the_periods_and_the_desk_its_actions(client, contract_a, dispatcher, customer_user_a,
                                                               engineer, frozen_clock):
    url = contract_a.get_absolute_url()
    _, text = page(client, dispatcher, url)
    assert "2026-01-01" in text and "2026-12-31" in text
    assert reverse("contracts:contract_renew", args=[contract_a.pk]) in text
    assert reverse("contracts:contract_cancel", args=[contract_a.pk]) in text
    assert "2026-12-01" in text  # notice by: 30 days before the end
    for reader in (customer_user_a, engineer):
        response, text = page(client, reader, url)
        assert response.status_code == 200 and "2026-12-31" in text
        assert reverse("contracts:contract_renew", args=[contract_a.pk]) not in text


def test_the_desk_creates_a_contract_for_listed_devices_by_serial_number(client, project_a, device_a, dispatcher):
    other = DeviceFactory(project=project_a)
    client.force_login(dispatcher)
    form = {"number": "WB-NEW-1", "project": project_a.pk, "renewal": "express", "notice_days": 30,
            "replacement": "carry_over", "device_serials": f"{device_a.serial_number}\n{other.serial_number}",
            "starts_on": "2026-01-01", "ends_on": "2026-12-31", "covers_labour": "on", "covers_onsite": "on",
            "response_tier": "office_hours"}
    response = client.post(reverse("contracts:contract_create"), form)
    contract = ServiceContract.objects.get(number="WB-NEW-1")
    assert response.status_code == 302 and response["Location"] == contract.get_absolute_url()
    assert set(contract.devices.all()) == {device_a, other} and not contract.whole_project
    period = contract.periods.get()
    assert (period.covers_parts, period.covers_labour, period.response_tier) == (False, True, "office_hours")


@pytest.mark.parametrize(("change", "field_text"), [
    ({"device_serials": "NOPE-1"}, "NOPE-1"), ({"ends_on": "2025-01-01"}, "invalid-feedback"),
    ({"starts_on": "1970-01-01"}, "2000-01-01"), ({"number": "WB-2026-001"}, "invalid-feedback"),
])
def test_a_bad_contract_form_says_why_and_writes_nothing(client, project_a, dispatcher, contract_a, change,
                                                         field_text):
    client.force_login(dispatcher)
    form = {"number": "WB-NEW-2", "project": project_a.pk, "renewal": "tacit", "notice_days": 30,
            "replacement": "restart", "starts_on": "2026-01-01", "ends_on": "2026-12-31"} | change
    response = client.post(reverse("contracts:contract_create"), form)
    assert response.status_code == 200 and field_text in response.content.decode()
    assert ServiceContract.objects.count() == 1


def test_another_branchs_project_cannot_be_chosen(client, project_b, dispatcher):
    client.force_login(dispatcher)
    response = client.post(reverse("contracts:contract_create"), {
        "number": "WB-X", "project": project_b.pk, "renewal": "tacit", "notice_days": 30, "replacement": "restart",
        "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    assert response.status_code == 200 and not ServiceContract.objects.exists()


def test_renew_page_proposes_the_next_year_and_adds_a_period(client, contract_a, dispatcher):
    url = reverse("contracts:contract_renew", args=[contract_a.pk])
    _, text = page(client, dispatcher, url)
    assert 'value="2027-01-01"' in text and 'value="2027-12-31"' in text
    response = client.post(url, {"version": contract_a.version, "starts_on": "2027-01-01", "ends_on": "2027-12-31",
                                 "covers_parts": "on", "covers_labour": "on", "covers_onsite": "on",
                                 "response_tier": "7x24"})
    assert response.status_code == 302
    assert list(contract_a.periods.values_list("ends_on", flat=True).order_by("ends_on")) == [
        date(2026, 12, 31), date(2027, 12, 31)]
    stale = client.post(url, {"version": contract_a.version, "starts_on": "2028-01-01", "ends_on": "2028-12-31"})
    assert stale.status_code == 200 and contract_a.periods.count() == 2  # the version seen is old: a form error


def test_notice_and_correction_pages(client, contract_a, dispatcher, frozen_clock):
    client.force_login(dispatcher)
    response = client.post(reverse("contracts:contract_cancel", args=[contract_a.pk]),
                           {"version": contract_a.version, "reason": "业主 11 月书面通知不再续约"})
    assert response.status_code == 302
    contract_a.refresh_from_db()
    assert contract_a.cancelled_on == date(2026, 11, 26)
    _, text = page(client, dispatcher, contract_a.get_absolute_url())
    assert reverse("contracts:contract_renew", args=[contract_a.pk]) not in text and "业主 11 月书面通知不再续约" in text
    period = contract_a.periods.get()
    url = reverse("contracts:period_correct", args=[period.pk])
    _, text = page(client, dispatcher, url)
    assert 'value="2026-12-31"' in text
    response = client.post(url, {"version": period.version, "starts_on": "2026-01-01", "ends_on": "2026-11-30",
                                 "covers_parts": "on"})
    assert response.status_code == 302
    period.refresh_from_db()
    assert (period.ends_on, period.covers_labour) == (date(2026, 11, 30), False)


def test_writers_are_the_desk_and_managers(client, contract_a, engineer, customer_user_a, general_manager, manager):
    for user in (engineer, customer_user_a, general_manager):
        client.force_login(user)
        for name in ("contract_update", "contract_renew", "contract_cancel"):
            assert client.get(reverse(f"contracts:{name}", args=[contract_a.pk])).status_code == 403, (user, name)
        assert client.get(reverse("contracts:contract_create")).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("contracts:contract_update", args=[contract_a.pk])).status_code == 200


def test_a_customer_cannot_open_another_customers_contract(client, contract_b, customer_user_a, dispatcher):
    for user in (customer_user_a, dispatcher):
        client.force_login(user)
        assert client.get(contract_b.get_absolute_url()).status_code == 404


# ------------------------------------------------------------------------------------------- the device page

@pytest.fixture
def covered_device(customer_a, dispatcher):
    """Accepted 2023-06-01: manufacturer through 2025-05-31, the extension through 2026-05-31; then a contract."""
    project = ProjectFactory(customer=customer_a, accepted_on=date(2023, 6, 1))
    device = DeviceFactory(project=project)
    make_contract(project, dispatcher, number="WB-DEV-1", starts_on=date(2026, 6, 1), ends_on=date(2027, 5, 31),
                  covers_parts=False, response_tier="office_hours")
    return device


def test_the_device_page_lists_its_periods_and_answers_for_today(client, covered_device, customer_user_a,
                                                                 frozen_clock):
    response, text = page(client, customer_user_a, covered_device.get_absolute_url())
    assert response.status_code == 200
    card = text[text.index('id="coverage"'):]
    for expected in ("2023-06-01", "2025-05-31", "2025-06-01", "2026-05-31", "WB-DEV-1", "2027-05-31"):
        assert expected in card
    today = card[:card.index("<table")]
    assert "WB-DEV-1" in today and "text-bg-success" in today  # covered today, by the contract (no parts)


@pytest.mark.parametrize(("day", "covered", "by"), [
    ("2025-05-31", True, "2025-05-31"), ("2026-05-31", True, "2026-05-31"), ("2026-06-01", True, "WB-DEV-1"),
    ("2027-05-31", True, "WB-DEV-1"), ("2027-06-01", False, None), ("2023-05-31", False, None)])
def test_the_device_page_answers_for_another_day(client, covered_device, dispatcher, day, covered, by, frozen_clock):
    _, text = page(client, dispatcher, covered_device.get_absolute_url(), coverage_on=day)
    answer = text[text.index('id="coverage-answer"'):]
    answer = answer[:answer.index("</div>")]
    assert day in answer
    assert ("text-bg-success" in answer) is covered
    if by:
        assert by in answer


def test_the_device_page_answers_a_bad_day_with_a_message_and_htmx_gets_the_same_page(client, covered_device,
                                                                                       dispatcher, frozen_clock):
    _, text = page(client, dispatcher, covered_device.get_absolute_url(), coverage_on="9999-01-01")
    assert "invalid-feedback" in text[text.index('id="coverage-answer"'):]
    client.force_login(dispatcher)
    response = client.get(covered_device.get_absolute_url(), {"coverage_on": "2027-06-01"}, **HTMX)
    assert response.status_code == 200 and 'id="coverage-answer"' in response.content.decode()


def test_the_coverage_card_costs_one_query(client, covered_device, dispatcher, frozen_clock,
                                           django_assert_max_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/", {"coverage_on": "2026-01-01"})
    request.user = dispatcher
    template = Template("{% load coverage %}{% coverage_card device %}")
    with django_assert_max_num_queries(1):
        html = template.render(Context({"device": covered_device, "request": request}))
    assert "WB-DEV-1" in html
