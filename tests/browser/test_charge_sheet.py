"""Issue 22 §6: on a 390 px phone, the customer opens the work order to confirm on a camera out of warranty, sees
its charge sheet — the original part at its purchase cost, labour at zero, no cost column of ours — and confirms;
the work order is confirmed with that sheet. Nothing scrolls sideways. Screenshots go to the output folder."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.billing.models import ChargeSheet
from aftersales.parts import services
from aftersales.parts.models import Location, LocationKind, Part
from aftersales.service import verbs
from aftersales.service.models import WorkOrder, WorkOrderState
from aftersales.service.part_lines import PartLine
from tests.browser.test_phone_lists import PHONE, new_page, shoot  # noqa: F401 - new_page is a fixture
from tests.factories import DeviceFactory, ManufacturerFactory, StaffFactory, current_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_customer_confirms_a_work_order_with_its_charge_sheet_on_a_phone(  # noqa: F811
        live_server, new_page, engineer, dispatcher, customer_user_a, project_a, branch_a, output_path):
    clerk = StaffFactory(username="logistics", branch=branch_a, position=Position.LOGISTICS, role=roles.LOGISTICS)
    reader = Part.objects.create(manufacturer=ManufacturerFactory(name="海康威视"), part_number="DS-K1101M",
                                 name="IC 读卡器", purchase_cost=Decimal("180.00"))
    van = Location.objects.create(kind=LocationKind.VAN, name="张工随车", branch=branch_a, engineer=engineer)
    services.receive(part=reader, location=van, quantity=2, by=clerk)
    camera = DeviceFactory(project=project_a)
    camera.warranty_end_override = date(2020, 12, 31)  # long out of warranty, under no contract
    camera.save()
    job = verbs.open_request(by=dispatcher, project=project_a, priority="general", channel="phone",
                             title="东门读卡器不识别", description="刷卡无反应", devices=[camera])
    job = verbs.reply(request=job, by=dispatcher, version=current_version(job), mode="remote", plan="远程指导更换")
    verbs.submit_work_order(request=job, by=engineer, version=current_version(job), actions="更换读卡器",
                            minutes_spent=40, result="solved", parts=[PartLine(reader, 1)])

    page = new_page(live_server, customer_user_a.username, **PHONE)
    page.goto(f"{live_server.url}/service/{job.pk}/confirm/")
    sheet = page.locator(".charge-sheet")
    expect(sheet).to_be_visible()
    expect(sheet.locator(".charge-total")).to_have_text("180.00")
    expect(sheet.locator(".charge-line[data-kind='labour'] td").nth(2)).to_have_text("0.00")
    assert sheet.locator("th").count() == 4  # item, quantity, you pay, why: no cost column of ours
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, output_path, "charge-sheet-390")
    page.locator("form.confirm-form button[type=submit]").first.click()
    expect(page.locator(".alert-success")).to_be_visible()
    work_order = WorkOrder.objects.get(request=job)
    assert work_order.state == WorkOrderState.CONFIRMED
    assert ChargeSheet.objects.get(work_order=work_order).customer_total == Decimal("180.00")
    shoot(page, output_path, "charge-sheet-confirmed-390")
