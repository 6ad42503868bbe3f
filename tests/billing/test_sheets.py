"""CUS-5 (issue 22 §6): every work order gets its charge sheet, issued in the work order's own transaction from the
coverage of the request's device on the day of the fault: free while covered, original parts at the purchase cost
of their movements after, labour and service never charged, our own cost always written down."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from aftersales.billing.models import ChargeSheet
from aftersales.contracts import services as contracts
from aftersales.service import verbs
from aftersales.service.models import Channel, Priority
from aftersales.service.part_lines import PartLine

from ..factories import DeviceFactory, current_version
from ..service.test_work_order_parts import (  # noqa: F401 - fixtures
    adapter, clerk, engineer2, hikvision, module, stocked, van, van2,
)

WARRANTY_ENDS = date(2026, 6, 30)


@pytest.fixture
def camera(project_a):
    device = DeviceFactory(project=project_a)
    device.warranty_end_override = WARRANTY_ENDS
    device.save()
    return device


def fault_on(day, frozen_clock, dispatcher, project_a, devices):
    """A request received at 23:30 on `day` in Shanghai (15:30 UTC), answered remotely."""
    frozen_clock.move_to(datetime(day.year, day.month, day.day, 15, 30, tzinfo=UTC))
    opened = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel=Channel.PHONE,
                                title="摄像机无画面", description="电源适配器损坏", devices=devices)
    return verbs.reply(request=opened, by=dispatcher, version=current_version(opened), mode="remote", plan="更换")


def work(request, engineer, parts=()):
    return verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="更换",
                                   minutes_spent=90, result="solved", parts=list(parts))


@pytest.mark.parametrize("day, pays", [
    (date(2026, 6, 29), Decimal("0.00")), (WARRANTY_ENDS, Decimal("0.00")), (date(2026, 7, 1), Decimal("90.00")),
])
def test_the_day_before_of_and_after_the_end_of_warranty(day, pays, frozen_clock, dispatcher, project_a, camera,
                                                         engineer, stocked, adapter):
    request = fault_on(day, frozen_clock, dispatcher, project_a, [camera])
    sheet = ChargeSheet.objects.get(work_order=work(request, engineer, [PartLine(adapter, 2)]))
    assert (sheet.fault_day, sheet.device, sheet.customer_total) == (day, camera, pays)
    lines = {line.kind: line for line in sheet.lines.all()}
    assert lines["part"].integrator_cost == Decimal("90.00") and lines["part"].movement.work_order_id == sheet.work_order_id
    assert lines["labour"].customer_amount == 0 and lines["labour"].quantity == 90
    assert lines["part"].basis == ("covered" if pays == 0 else "purchase_cost")


def test_a_renewed_contract_covers_the_day_after_the_first_period(frozen_clock, dispatcher, project_a, camera, engineer,
                                                                 stocked, adapter):
    contract = contracts.create_contract(by=dispatcher, project=project_a, number="WB-2026-009",
                                         starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30), devices=[camera])
    uncovered = fault_on(date(2026, 10, 1), frozen_clock, dispatcher, project_a, [camera])
    assert ChargeSheet.objects.get(work_order=work(uncovered, engineer, [PartLine(adapter, 1)])).customer_total == 45
    contracts.renew(contract=contract, by=dispatcher, version=contract.version)
    renewed = fault_on(date(2026, 10, 1), frozen_clock, dispatcher, project_a, [camera])
    sheet = ChargeSheet.objects.get(work_order=work(renewed, engineer, [PartLine(adapter, 1)]))
    assert sheet.customer_total == 0 and "WB-2026-009 → 2026-12-31" in sheet.coverage


def test_a_request_without_a_device_is_charged_as_not_covered_and_our_cost_uses_the_settings(
        frozen_clock, dispatcher, project_a, engineer, stocked, adapter, settings):
    settings.AFTERSALES_LABOUR_COST_PER_HOUR = Decimal("120")
    request = fault_on(date(2026, 3, 1), frozen_clock, dispatcher, project_a, [])
    sheet = ChargeSheet.objects.get(work_order=work(request, engineer, [PartLine(adapter, 1)]))
    assert (sheet.device, sheet.coverage, sheet.customer_total) == (None, "", Decimal("45.00"))
    assert sheet.integrator_total == Decimal("45.00") + Decimal("180.00")  # 90 minutes at 120 an hour


def test_the_customer_sees_the_sheet_without_our_cost_and_staff_with_it(client, frozen_clock, dispatcher, project_a,
                                                                      camera, engineer, stocked, adapter,
                                                                      customer_user_a):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    request = fault_on(date(2026, 7, 1), frozen_clock, dispatcher, project_a, [camera])
    work(request, engineer, [PartLine(adapter, 1)])
    client.force_login(customer_user_a)
    page = client.get(reverse("service:confirm", args=[request.pk])).content.decode()
    assert "Charge sheet" in page and 'data-total="45.00"' in page and "Our cost" not in page
    client.force_login(dispatcher)
    assert "Our cost" in client.get(request.get_absolute_url()).content.decode()


def test_a_part_added_through_the_api_while_the_customer_has_not_confirmed_is_on_the_sheet(
        frozen_clock, dispatcher, project_a, camera, engineer, stocked, adapter, customer_user_a):
    from ..conftest import api_as

    request = fault_on(date(2026, 7, 1), frozen_clock, dispatcher, project_a, [camera])
    work_order = work(request, engineer)
    assert ChargeSheet.objects.get(work_order=work_order).customer_total == 0
    api = api_as(engineer)
    added = api.post("/api/stock-movements/use/", {"part": adapter.pk, "location": stocked_van(engineer).pk,
                                                   "quantity": 1, "work_order": work_order.pk}, format="json")
    assert added.status_code == 201, added.content
    assert ChargeSheet.objects.get(work_order=work_order).customer_total == Decimal("45.00")
    verbs.confirm_work_order(work_order=work_order, by=customer_user_a, version=current_version(work_order),
                             via="portal")
    refused = api.post("/api/stock-movements/use/", {"part": adapter.pk, "location": stocked_van(engineer).pk,
                                                     "quantity": 1, "work_order": work_order.pk}, format="json")
    assert refused.status_code == 409 and refused.json()["code"]
    assert ChargeSheet.objects.get(work_order=work_order).customer_total == Decimal("45.00")
    assert ChargeSheet.objects.get(work_order=work_order).lines.filter(kind="part").count() == 1  # nothing written


def stocked_van(engineer):
    from aftersales.parts.selectors import van_of

    return van_of(engineer)


@pytest.fixture
def charged(frozen_clock, dispatcher, project_a, camera, engineer, stocked, adapter):
    """A work order after the warranty: 2 adapters charged, 90.00."""
    request = fault_on(date(2026, 7, 1), frozen_clock, dispatcher, project_a, [camera])
    return work(request, engineer, [PartLine(adapter, 2)])


def test_a_managers_exception_is_a_line_of_its_own_and_survives_a_reissue(charged, manager, engineer, adapter,
                                                                          customer_user_a):
    from aftersales.billing import services as billing

    billing.add_exception(work_order=charged, amount=Decimal("-50"), reason="首次故障，酌情减免", by=manager)
    sheet = ChargeSheet.objects.get(work_order=charged)
    assert sheet.customer_total == Decimal("40.00") and sheet.integrator_total == Decimal("90.00")
    exception = sheet.lines.get(kind="exception")
    assert (exception.customer_amount, exception.description, exception.reference) == (
        Decimal("-50.00"), "首次故障，酌情减免", manager.display_name)
    assert sheet.lines.get(kind="part").customer_amount == Decimal("90.00")  # the rule's own line is not edited
    again = billing.reissue_for_work_order(charged)
    assert again.customer_total == Decimal("40.00") and again.lines.filter(kind="exception").count() == 1


@pytest.mark.parametrize("amount, reason, field", [
    (Decimal("-90.01"), "太多", "amount"), (Decimal("0"), "零", "amount"), (Decimal("-10"), "  ", "reason"),
    ("abc", "x", "amount"),
])
def test_an_exception_is_refused_with_a_clear_error_and_nothing_written(charged, manager, amount, reason, field):
    from aftersales.billing import services as billing
    from aftersales.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        billing.add_exception(work_order=charged, amount=amount, reason=reason, by=manager)
    assert refused.value.field == field
    assert ChargeSheet.objects.get(work_order=charged).customer_total == Decimal("90.00")


def test_no_exception_once_the_customer_has_answered(charged, manager, customer_user_a):
    from aftersales.billing import services as billing
    from aftersales.core.errors import IllegalTransition

    verbs.confirm_work_order(work_order=charged, by=customer_user_a, version=current_version(charged), via="portal")
    with pytest.raises(IllegalTransition):
        billing.add_exception(work_order=charged, amount=Decimal("-1"), reason="晚了", by=manager)


def test_the_exception_page_for_managers_only(client, charged, manager, engineer, customer_user_a):
    url = reverse("billing:exception", args=[charged.pk])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(engineer)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    assert "Add an exception to the rule" in client.get(charged.request.get_absolute_url()).content.decode()
    bad = client.post(url, {"amount": "-100", "reason": "太多"})
    assert bad.status_code == 200 and "below zero" in bad.content.decode()
    done = client.post(url, {"amount": "-20", "reason": "老客户"})
    assert done.status_code == 302 and ChargeSheet.objects.get(work_order=charged).customer_total == Decimal("70.00")
    client.force_login(customer_user_a)
    page = client.get(reverse("service:confirm", args=[charged.request.pk])).content.decode()
    assert "老客户" in page and 'data-total="70.00"' in page and "Add an exception" not in page
