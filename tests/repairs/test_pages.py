"""The repair pages: the case page shows a button for each step possible now (and why a step is held back), a step
posted from a stale page or in the wrong state is a conflict; the device's page shows its repairs and replacement
links both ways; the request's side panel names its cases and loans; the board costs a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from aftersales.core import clock
from aftersales.repairs import services
from aftersales.repairs.models import RepairCase, RepairState
from aftersales.service import verbs

from ..factories import DeviceFactory, current_version
from .conftest import bring_to, take


def panels(html: str) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', html))


def test_the_case_page_shows_the_steps_possible_now_as_buttons(client, case_a, dispatcher, logistics, engineer):
    client.force_login(dispatcher)
    page = client.get(case_a.get_absolute_url()).content.decode()
    assert panels(page) == {"repair_on_site", "plan_replacement", "replace", "cancel", "lend"}  # no RMA: logistics'
    client.force_login(logistics)
    assert panels(client.get(case_a.get_absolute_url()).content.decode()) == {"send_to_vendor", "lend"}
    case = bring_to(case_a, "at_vendor", dispatcher)
    assert panels(client.get(case.get_absolute_url()).content.decode()) == {"return_from_vendor", "rma", "lend"}
    client.force_login(engineer)
    assert panels(client.get(case.get_absolute_url()).content.decode()) == {"lend"}


def test_a_customer_reads_the_case_without_any_button(client, case_a, customer_user_a, dispatcher):
    take(case_a, "repair_on_site", dispatcher, note="检查电源")
    client.force_login(customer_user_a)
    page = client.get(case_a.get_absolute_url())
    assert page.status_code == 200 and panels(page.content.decode()) == set()
    assert 'data-kind="repair_on_site"' in page.content.decode()


def test_close_is_held_back_with_its_reason_while_a_unit_is_lent(frozen_clock, client, case_a, dispatcher):
    case = bring_to(case_a, "fixed", dispatcher)
    services.lend_unit(case=case, by=dispatcher, version=case.version, unit_serial="SP-1", unit_model="备用机",
                       due_back_on=clock.today() + timedelta(days=1))
    client.force_login(dispatcher)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "close" not in panels(page) and 'data-step="close"' in page and "SP-1" in page


def test_a_step_posted_from_the_page_moves_the_case(client, case_a, engineer):
    client.force_login(engineer)
    response = client.post(reverse("repairs:repair_on_site", args=[case_a.pk]), {"version": case_a.version, "note": "x"})
    assert response.status_code == 302 and response["Location"] == case_a.get_absolute_url()
    assert RepairCase.objects.get(pk=case_a.pk).state == RepairState.REPAIRING


@pytest.mark.parametrize("htmx", [True, False])
def test_a_stale_or_illegal_post_is_a_conflict_with_its_message(htmx, client, case_a, engineer):
    client.force_login(engineer)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    stale = client.post(reverse("repairs:repair_on_site", args=[case_a.pk]), {"version": case_a.version + 5}, **headers)
    assert stale.status_code == (409 if htmx else 200)
    assert "alert-danger" in stale.content.decode()
    illegal = client.post(reverse("repairs:close", args=[case_a.pk]), {"version": current_version(case_a)}, **headers)
    assert illegal.status_code == (409 if htmx else 200)
    assert RepairCase.objects.get(pk=case_a.pk).state == RepairState.DIAGNOSING


def test_the_device_page_shows_every_repair_and_the_replacement_links_both_ways(client, case_a, device_a, engineer,
                                                                                dispatcher):
    case = take(case_a, "replace", engineer, serial="CAM-NEW-77")
    take(case, "close", dispatcher)
    client.force_login(dispatcher)
    old_page = client.get(device_a.get_absolute_url()).content.decode()
    assert "device-replaced-by" in old_page and "CAM-NEW-77" in old_page and case.number in old_page
    assert 'data-kind="replace"' in old_page and 'data-kind="close"' in old_page
    new_page = client.get(case.replaced_by.get_absolute_url()).content.decode()
    assert "device-replaces" in new_page and device_a.serial_number in new_page and case.number in new_page


def test_the_request_page_names_its_repair_cases_and_the_unit_lent(frozen_clock, client, project_a, device_a,
                                                                    customer_user_a, dispatcher):
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="serious", channel="portal",
                                 title="黑屏", description="大门摄像机黑屏", devices=[device_a])
    case = services.open_case(by=dispatcher, device=device_a, service_request=request, fault="黑屏")
    services.lend_unit(case=case, by=dispatcher, version=case.version, unit_serial="SP-7", unit_model="备用摄像机",
                       due_back_on=case.opened_at.date() + timedelta(days=10))
    for user in (dispatcher, customer_user_a):
        client.force_login(user)
        page = client.get(request.get_absolute_url()).content.decode()
        assert "request-repairs" in page and case.number in page and "SP-7" in page


def test_opening_a_case_from_a_request_a_device_or_a_serial(client, project_a, device_a, customer_user_a, dispatcher):
    client.force_login(dispatcher)
    other = DeviceFactory(project=project_a)
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="t", description="录像机报警", devices=[other])
    form = client.get(f"/repairs/new/?request={request.pk}").content.decode()
    assert "录像机报警" in form and f'value="{other.pk}" selected' in form
    response = client.post("/repairs/new/", {"request": request.pk, "device": other.pk, "fault": "录像机报警"})
    case = RepairCase.objects.get(device=other)
    assert response["Location"] == case.get_absolute_url() and case.service_request == request
    client.post("/repairs/new/", {"device": device_a.pk, "fault": "x"})
    assert RepairCase.objects.filter(device=device_a, opened_from="device").exists()
    missing = client.post("/repairs/new/", {"serial": "NO-SUCH", "fault": "x"})
    assert missing.status_code == 200 and "invalid-feedback" in missing.content.decode()


def test_another_customers_case_is_a_404_on_every_page(client, case_a, customer_user_b):
    client.force_login(customer_user_b)
    assert client.get(case_a.get_absolute_url()).status_code == 404
    assert client.get(reverse("repairs:repair_on_site", args=[case_a.pk])).status_code in (403, 404)
    assert case_a.number not in client.get("/repairs/").content.decode()


@pytest.mark.parametrize("n", [5, 50])
def test_the_board_costs_the_same_for_5_or_50_cases(n, frozen_clock, client, project_a, dispatcher,
                                                     django_assert_max_num_queries):
    for i in range(n):
        case = services.open_case(by=dispatcher, device=DeviceFactory(project=project_a), fault=f"故障 {i}")
        if i % 3 == 0:
            case = bring_to(case, "at_vendor", dispatcher)
        if i % 4 == 0:
            services.lend_unit(case=case, by=dispatcher, version=case.version, unit_serial=f"SP-{i}",
                               unit_model="备用机", due_back_on=case.opened_at.date())
    frozen_clock.shift(timedelta(days=40))
    client.force_login(dispatcher)
    # session, user, 2 × permissions, the notification bell, the customer filter's choices (kept per worker after
    # this), state counts, overdue RMAs, overdue loans, the page's count and its rows (device, customer, request,
    # replacement joined; the overdue marks as EXISTS in the same query)
    with django_assert_max_num_queries(11):
        page = client.get("/repairs/")
    assert page.status_code == 200 and page.content.decode().count("data-case=") == n
    assert "table-danger overdue" in page.content.decode()
