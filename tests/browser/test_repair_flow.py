"""REP-1 in a real browser (issue 22 §2-§4): the desk opens a repair case from the device's page and lends a spare
unit; logistics send the unit to its manufacturer and record it back (the manufacturer sent another unit); the
engineer reinstalls it, which replaces the device (the label follows the new one); closing is held back until the
spare unit is taken back, then the case closes. Screenshots go to test-results/ for a human to look at."""

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.repairs.models import RepairCase

from .test_service_flow import DESKTOP, PHONE, csp_violations, log_in, new_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_panel(page, name):
    page.locator(f"#action-{name} .card-header a").click()
    expect(page.locator(f"#panel-{name}")).to_be_visible()


def submit(page, name):
    page.locator(f"#action-{name} button[type=submit]").click()


def test_a_repair_through_the_vendor_with_a_loan_and_a_replacement(new_page, live_server, output_path,  # noqa: F811
                                                                    dispatcher, engineer, device_a, branch_a):
    from aftersales.accounts import roles
    from aftersales.accounts.models import Position
    from tests.factories import StaffFactory

    logistics = StaffFactory(username="logistics", branch=branch_a, position=Position.LOGISTICS, role=roles.LOGISTICS)
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)
    old_code = device_a.label_code

    # 1. The desk opens the case from the device's page and lends a spare unit.
    desk = new_page(**DESKTOP)
    log_in(desk, live_server, dispatcher.username)
    desk.goto(f"{live_server.url}{device_a.get_absolute_url()}")
    desk.locator(".device-repairs a[href*='/repairs/new/']").click()
    desk.fill("#id_fault", "摄像机夜间无红外,图像全黑")
    desk.locator("form.open-case-form button[type=submit]").click()
    desk.wait_for_url(f"{live_server.url}/repairs/*/")
    case = RepairCase.objects.get(device=device_a)
    expect(desk.locator(".case-header .case-state")).to_have_attribute("data-state", "diagnosing")
    open_panel(desk, "lend")
    desk.fill("#lend_unit_serial", "by-cam-0012")
    desk.fill("#lend_unit_model", "DS-2CD3T46 备用机")
    desk.fill("#lend_due_back_on", (clock.today() + timedelta(days=20)).isoformat())
    desk.fill("#lend_lent_to", "值班室 马红梅")
    submit(desk, "lend")
    expect(desk.locator(".loans-card .loan")).to_contain_text("BY-CAM-0012")

    # 2. Logistics send it to the manufacturer, then record it back: the manufacturer sent another unit.
    shipping = new_page(**DESKTOP)
    log_in(shipping, live_server, logistics.username)
    shipping.goto(f"{live_server.url}{case.get_absolute_url()}")
    open_panel(shipping, "send_to_vendor")
    shipping.fill("#send_to_vendor_rma_number", "RMA-2026-0815")
    shipping.fill("#send_to_vendor_carrier", "顺丰速运")
    shipping.fill("#send_to_vendor_tracking_number", "SF1402938475612")
    submit(shipping, "send_to_vendor")
    expect(shipping.locator(".case-header .case-state")).to_have_attribute("data-state", "at_vendor")
    shipping.goto(f"{live_server.url}/repairs/")
    expect(shipping.locator(f'tr[data-case="{case.pk}"] [data-state]')).to_have_attribute("data-state", "at_vendor")
    shipping.screenshot(path=str(shots / "repair-board.png"), full_page=True)
    shipping.goto(f"{live_server.url}{case.get_absolute_url()}")
    open_panel(shipping, "return_from_vendor")
    shipping.locator("label[for=return_from_vendor_verdict_1]").click()  # replaced with another unit
    shipping.fill("#return_from_vendor_returned_serial", "DS7788990011")
    submit(shipping, "return_from_vendor")
    expect(shipping.locator(".case-header .case-state")).to_have_attribute("data-state", "returned")

    # 3. The engineer, on a phone, reinstalls: the unit that came back replaces the device.
    phone = new_page(**PHONE)
    log_in(phone, live_server, engineer.username)
    phone.goto(f"{live_server.url}{case.get_absolute_url()}")
    open_panel(phone, "reinstall")
    submit(phone, "reinstall")
    expect(phone.locator(".case-header .case-state")).to_have_attribute("data-state", "fixed")
    expect(phone.locator(".replaced-by")).to_contain_text("DS7788990011")
    phone.screenshot(path=str(shots / "repair-case-phone.png"), full_page=True)

    # 4. Closing waits for the spare unit; the desk takes it back and closes.
    desk.goto(f"{live_server.url}{case.get_absolute_url()}")
    expect(desk.locator('.blocked-step[data-step="close"]')).to_contain_text("BY-CAM-0012")
    desk.locator(".loans-card a", has_text="收回").click()
    desk.locator("form.action-form button[type=submit]").click()
    desk.wait_for_url(f"{live_server.url}{case.get_absolute_url()}")
    open_panel(desk, "close")
    submit(desk, "close")
    expect(desk.locator(".case-header .case-state")).to_have_attribute("data-state", "closed")
    desk.screenshot(path=str(shots / "repair-case-closed.png"), full_page=True)

    # 5. The old device's page links the new one; its label opens the new device.
    new = Device.objects.get(serial_number="DS7788990011")
    desk.goto(f"{live_server.url}{device_a.get_absolute_url()}")
    expect(desk.locator(".device-replaced-by")).to_contain_text("DS7788990011")
    desk.screenshot(path=str(shots / "device-replaced.png"), full_page=True)
    desk.goto(f"{live_server.url}/intake/d/{old_code}/")
    expect(desk.locator("main")).to_contain_text("DS7788990011")
    assert new.label_code == old_code
