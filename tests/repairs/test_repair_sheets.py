"""CUS-5 for repairs (issue 22 §6): every repair case ends with a charge sheet — issued in the step that puts its device
back in service (or cancels the case), again when more work brings it back there (a manager's exception kept), free
while the device was covered on the day of the fault and the replacement unit at its purchase cost after, our own
cost always written down. A part reversed in the ledger leaves the sheet while it may still change, and is refused
once it is final; the same holds for a work order's part lines."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.billing import services as billing
from aftersales.billing.models import ChargeLine, ChargeSheet
from aftersales.core.errors import IllegalTransition
from aftersales.parts.models import Movement
from aftersales.repairs import services
from aftersales.service import verbs
from aftersales.service.models import Channel, Priority

from ..factories import current_version
from .conftest import bring_to, take

WARRANTY_ENDS = date(2026, 6, 30)


@pytest.fixture
def covered_until(device_a):
    device_a.warranty_end_override = WARRANTY_ENDS
    device_a.save()
    return device_a


def opened_on(day, frozen_clock, device, by):
    frozen_clock.move_to(datetime(day.year, day.month, day.day, 15, 30, tzinfo=UTC))  # 23:30 in Shanghai
    return services.open_case(by=by, device=device, fault="摄像机无图像")


def replace_from_stock(case, engineer, part, serial="CAM-NEW-1"):
    return take(case, "replace", engineer, serial=serial, source="stock", part=part, from_where="")


def sheet_of(case) -> ChargeSheet:
    return ChargeSheet.objects.prefetch_related("lines").get(repair_case=case)


@pytest.mark.parametrize("day, pays", [
    (date(2026, 6, 29), Decimal("0.00")), (WARRANTY_ENDS, Decimal("0.00")), (date(2026, 7, 1), Decimal("1280.00")),
])
def test_a_replacement_from_stock_is_free_while_covered_and_at_its_purchase_cost_after(
        day, pays, frozen_clock, covered_until, dispatcher, engineer, stocked_van, spare_camera):
    case = replace_from_stock(opened_on(day, frozen_clock, covered_until, dispatcher), engineer, spare_camera)
    sheet = sheet_of(case)
    assert (sheet.fault_day, sheet.device, sheet.customer_total, sheet.integrator_total) == (
        day, covered_until, pays, Decimal("1280.00"))
    [line] = sheet.lines.all()
    assert (line.kind, line.covered, line.movement) == ("part", pays == 0, Movement.objects.get(repair_case=case))


def test_the_fault_day_of_a_case_opened_from_a_request_is_the_day_the_request_came_in(
        frozen_clock, covered_until, dispatcher, engineer, stocked_van, spare_camera, project_a):
    frozen_clock.move_to(datetime(2026, 6, 30, 15, 30, tzinfo=UTC))  # 23:30 on the last day of warranty
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=Channel.PHONE,
                                 title="摄像机无画面", description="无图像", devices=[covered_until])
    frozen_clock.shift(timedelta(days=3))
    case = services.open_case(by=dispatcher, device=covered_until, fault="无图像", service_request=request)
    sheet = sheet_of(replace_from_stock(case, engineer, spare_camera))
    assert (sheet.fault_day, sheet.customer_total) == (WARRANTY_ENDS, 0)


def test_a_repair_on_site_and_a_cancelled_case_get_a_sheet_with_nothing_to_pay(case_a, case_b, dispatcher,
                                                                              general_manager):
    fixed = bring_to(case_a, "fixed", dispatcher)
    cancelled = bring_to(case_b, "cancelled", general_manager)
    for case in (fixed, cancelled):
        sheet = sheet_of(case)
        assert (sheet.customer_total, sheet.integrator_total, list(sheet.lines.all())) == (0, 0, [])


def test_more_work_issues_the_sheet_again_and_keeps_a_managers_exception(
        frozen_clock, covered_until, dispatcher, engineer, manager, stocked_van, spare_camera):
    case = replace_from_stock(opened_on(date(2026, 8, 1), frozen_clock, covered_until, dispatcher), engineer,
                              spare_camera, serial="CAM-NEW-1")
    billing.add_exception(repair_case=case, amount=Decimal("-280"), reason="老客户，酌情减免", by=manager)
    assert sheet_of(case).customer_total == Decimal("1000.00")
    case = take(case, "rediagnose", dispatcher)
    case = replace_from_stock(case, engineer, spare_camera, serial="CAM-NEW-2")  # the first one did not hold
    sheet = sheet_of(case)
    assert sheet.customer_total == Decimal("2280.00") and sheet.integrator_total == Decimal("2560.00")
    assert [(line.kind, line.customer_amount) for line in sheet.lines.all()] == [
        ("part", Decimal("1280.00")), ("part", Decimal("1280.00")), ("exception", Decimal("-280.00"))]


def test_an_exception_waits_for_the_device_back_in_service_and_ends_with_the_case(case_a, dispatcher, manager):
    with pytest.raises(IllegalTransition):
        billing.add_exception(repair_case=case_a, amount=Decimal("10"), reason="上门加急", by=manager)
    case = bring_to(case_a, "fixed", dispatcher)
    billing.add_exception(repair_case=case, amount=Decimal("10"), reason="上门加急", by=manager)
    case = take(case, "close", dispatcher)
    with pytest.raises(IllegalTransition):
        billing.add_exception(repair_case=case, amount=Decimal("-10"), reason="撤销加急费", by=manager)
    assert sheet_of(case).customer_total == Decimal("10.00")


def test_a_reversed_replacement_leaves_the_open_sheet_and_is_refused_once_the_case_has_ended(
        frozen_clock, covered_until, dispatcher, engineer, logistics, stocked_van, spare_camera):
    case = replace_from_stock(opened_on(date(2026, 8, 1), frozen_clock, covered_until, dispatcher), engineer,
                              spare_camera)
    movement = Movement.objects.get(repair_case=case)
    billing.reverse_movement(movement=movement, by=logistics, reason="登记错了，用的是客户自备机")
    assert (sheet_of(case).customer_total, list(sheet_of(case).lines.all())) == (0, [])
    case = replace_from_stock(take(case, "rediagnose", dispatcher), engineer, spare_camera, serial="CAM-NEW-3")
    case = take(case, "close", dispatcher)
    second = Movement.objects.filter(repair_case=case, kind="used").latest("pk")
    before = (Movement.objects.count(), list(ChargeLine.objects.values_list("pk", "customer_amount")))
    with pytest.raises(IllegalTransition) as refused:
        billing.reverse_movement(movement=second, by=logistics, reason="晚了")
    assert refused.value.field == "movement"
    assert (Movement.objects.count(), list(ChargeLine.objects.values_list("pk", "customer_amount"))) == before


def test_a_reversed_part_line_leaves_a_waiting_work_order_sheet_and_is_refused_once_confirmed(
        client, frozen_clock, covered_until, dispatcher, engineer, logistics, stocked_van, spare_camera, project_a,
        customer_user_a):
    from aftersales.service.part_lines import PartLine

    frozen_clock.move_to(datetime(2026, 8, 1, 2, 0, tzinfo=UTC))
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=Channel.PHONE,
                                 title="摄像机无画面", description="无图像", devices=[covered_until])
    request = verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="更换")
    work_order = verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="更换",
                                         minutes_spent=30, result="solved",
                                         parts=[PartLine(spare_camera, 1, ("SP-1",)), PartLine(spare_camera, 1, ("SP-2",))])
    first, second = Movement.objects.filter(work_order=work_order).order_by("pk")
    assert ChargeSheet.objects.get(work_order=work_order).customer_total == Decimal("2560.00")
    client.force_login(logistics)
    response = client.post(reverse("parts:movement_detail", args=[first.pk]), {"reason": "装错了单"})
    assert response.status_code == 302, response.content.decode()
    sheet = ChargeSheet.objects.get(work_order=work_order)
    assert sheet.customer_total == Decimal("1280.00") and sheet.lines.filter(kind="part").count() == 1
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, via="portal", version=current_version(work_order))
    before = (Movement.objects.count(), list(ChargeLine.objects.values_list("pk", "customer_amount")))
    response = client.post(reverse("parts:movement_detail", args=[second.pk]), {"reason": "晚了"})
    assert response.status_code == 409 and "最终" in response.content.decode()
    assert (Movement.objects.count(), list(ChargeLine.objects.values_list("pk", "customer_amount"))) == before


def test_the_case_page_shows_the_sheet_and_a_manager_adds_an_exception_through_the_page(
        client, frozen_clock, covered_until, dispatcher, engineer, manager, customer_user_a, stocked_van, spare_camera):
    case = replace_from_stock(opened_on(date(2026, 8, 1), frozen_clock, covered_until, dispatcher), engineer,
                              spare_camera)
    url = reverse("billing:repair_exception", args=[case.pk])
    client.force_login(manager)
    assert url in client.get(case.get_absolute_url()).content.decode()
    refused = client.post(url, {"amount": "-2000", "reason": "全免"})
    assert refused.status_code == 200 and "1280.00" in refused.content.decode()
    response = client.post(url, {"amount": "-80", "reason": "老客户"})
    assert response.status_code == 302 and response["Location"].endswith("#charge-sheet")
    assert sheet_of(case).customer_total == Decimal("1200.00")
    client.force_login(customer_user_a)
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'data-total="1200.00"' in page and "老客户" in page and url not in page
    assert client.get(url).status_code == 403


def test_the_api_shows_the_sheet_without_our_cost_to_the_customer_and_takes_a_managers_exception(
        frozen_clock, covered_until, dispatcher, engineer, manager, customer_user_a, stocked_van, spare_camera):
    from ..conftest import api_as

    case = replace_from_stock(opened_on(date(2026, 8, 1), frozen_clock, covered_until, dispatcher), engineer,
                              spare_camera)
    url = f"/api/repairs/{case.pk}/"
    staff = api_as(manager).get(url).json()["charge_sheet"]
    assert (staff["customer_total"], staff["integrator_total"], staff["lines"][0]["integrator_cost"]) == (
        "1280.00", "1280.00", "1280.00")
    seen = api_as(customer_user_a).get(url).json()["charge_sheet"]
    assert seen["customer_total"] == "1280.00" and "integrator_total" not in seen
    assert "integrator_cost" not in seen["lines"][0]
    assert api_as(customer_user_a).post(url + "exception/", {"amount": "-1280", "reason": "x"}).status_code == 403
    refused = api_as(manager).post(url + "exception/", {"amount": "-1300", "reason": "全免"}, format="json")
    assert (refused.status_code, list(refused.json()["fields"])) == (400, ["amount"]), refused.json()
    response = api_as(manager).post(url + "exception/", {"amount": "-280", "reason": "老客户"}, format="json")
    assert response.status_code == 200, response.json()
    sheet = response.json()["charge_sheet"]
    assert sheet["customer_total"] == "1000.00" and sheet["lines"][-1]["reference"] == manager.display_name
    take(case, "close", dispatcher)
    closed = api_as(manager).post(url + "exception/", {"amount": "-1", "reason": "晚了"}, format="json")
    assert closed.status_code == 409


def test_the_work_order_api_shows_its_sheet_and_takes_an_exception_until_the_customer_answers(
        frozen_clock, covered_until, dispatcher, engineer, manager, customer_user_a, stocked_van, spare_camera,
        project_a):
    from aftersales.service.part_lines import PartLine

    from ..conftest import api_as

    frozen_clock.move_to(datetime(2026, 8, 1, 2, 0, tzinfo=UTC))
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=Channel.PHONE,
                                 title="摄像机无画面", description="无图像", devices=[covered_until])
    request = verbs.reply(request=request, by=dispatcher, version=current_version(request), mode="remote", plan="更换")
    work_order = verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="更换",
                                         minutes_spent=30, result="solved", parts=[PartLine(spare_camera, 1, ("SP-1",))])
    url = f"/api/work-orders/{work_order.pk}/"
    listed = api_as(customer_user_a).get("/api/work-orders/").json()["results"][0]["charge_sheet"]
    assert listed["customer_total"] == "1280.00" and "integrator_total" not in listed
    assert api_as(manager).get(url).json()["charge_sheet"]["integrator_total"] == "1280.00"  # labour at 0 until set
    response = api_as(manager).post(url + "exception/", {"amount": "-80", "reason": "首次故障"}, format="json")
    assert response.status_code == 200 and response.json()["charge_sheet"]["customer_total"] == "1200.00"
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, via="portal", version=current_version(work_order))
    late = api_as(manager).post(url + "exception/", {"amount": "-80", "reason": "再减"}, format="json")
    assert late.status_code == 409 and late.json()["code"]
