"""SRQ-1..7 in real browsers: a customer reports an emergency in the portal, the desk sees it at the top of
its queue with a running countdown and dispatches, the engineer (a phone, position allowed) departs,
arrives and writes the work order with a part from the van (issue 22 §7), and the customer signs on the engineer's
screen, seeing the part line: the request is closed.

Screenshots of the desk queue and the engineer's phone page go to test-results/ for a human to look at.
"""

import re
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.parts import services as stock
from aftersales.parts.models import Location, LocationKind, Movement, Part
from aftersales.service import verbs
from aftersales.service.models import (
    EventKind,
    Priority,
    ServiceRequest,
    SlaPolicy,
    State,
    WorkOrderState,
)
from tests.conftest import PASSWORD
from tests.factories import ManufacturerFactory, OnCallShiftFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1360, "height": 900}}
# An engineer's phone at the site of project_a (38.5, 106.3), about 30 m away.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "geolocation": {"latitude": 38.50025, "longitude": 106.30015, "accuracy": 12}, "permissions": ["geolocation"]}


@pytest.fixture
def default_policy(db):
    """The seed's SLA policy is re-created after every flush (post_migrate); the flow needs it."""
    assert SlaPolicy.objects.filter(is_default=True).exists()


# Every document reports what its Content-Security-Policy blocked (issue 20): an inline script or handler, a style
# attribute, an eval by htmx. Playwright's init script and exposed function are not subject to the page's policy.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportCspViolation({directive: event.effectiveDirective, blocked: event.blockedURI, page: document.URL,
                             line: event.lineNumber, sample: event.sample});
});
"""


@pytest.fixture
def csp_violations() -> list[dict]:
    return []


@pytest.fixture
def new_page(browser: Browser, csp_violations):
    """A page in a fresh browser context (own cookies, viewport, position); every context is closed at the
    end of the test, before the live server stops, so no kept-alive connection outlives it. Any violation of
    the Content-Security-Policy fails the test."""
    contexts = []

    def make(**options) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        context.expose_function("reportCspViolation", lambda violation: csp_violations.append(violation))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert csp_violations == []


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)  # each role lands on its own page (reports.views.landing_of)


def test_emergency_from_portal_to_signature(new_page, live_server, output_path, default_policy, csp_violations,
                                            customer_user_a, dispatcher, engineer, branch_a, project_a, device_a):
    OnCallShiftFactory(user=engineer, branch=branch_a, start_time=time(0), end_time=time(0))  # on duty 7×24
    clerk = StaffFactory(username="logistics", branch=branch_a, position=Position.LOGISTICS, role=roles.LOGISTICS)
    adapter = Part.objects.create(manufacturer=ManufacturerFactory(name="海康威视"), part_number="DS-2FA1202-C",
                                  name="电源适配器 12V 2A", purchase_cost=Decimal("45.00"))
    van = Location.objects.create(kind=LocationKind.VAN, name="张工随车", branch=branch_a, engineer=engineer)
    stock.receive(part=adapter, location=van, quantity=2, by=clerk)
    for title in ("门禁读卡器偶发失灵", "存储空间告警"):  # the queue already holds general requests
        verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                           title=title, description="业主来电")
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)

    # 1. The customer reports an emergency in the portal, with the affected device.
    customer = new_page(**DESKTOP)
    log_in(customer, live_server, customer_user_a.username)
    expect(customer.locator("html")).to_have_attribute("lang", "zh-hans")
    customer.locator('#mainnav a[href="/service/new/"]').click()
    customer.wait_for_url(f"{live_server.url}/service/new/")
    customer.select_option("#id_project", str(project_a.pk))
    device_box = customer.locator(f'#device-choices input[name=devices][value="{device_a.pk}"]')
    expect(device_box).to_be_visible()  # loaded by htmx for the chosen project
    device_box.check()
    customer.locator("#new-priority-emergency").check()
    customer.fill("#id_title", "监控中心全部黑屏")
    customer.fill("#id_description", "所有解码器无输出，值班室看不到任何画面")
    customer.fill("#id_business_impact", "安防值守中断")
    customer.locator("form.request-form button[type=submit]").click()
    customer.wait_for_url(f"{live_server.url}/service/*/")
    emergency = ServiceRequest.objects.get(title="监控中心全部黑屏")
    assert emergency.priority == Priority.EMERGENCY and emergency.channel == "portal"
    assert list(emergency.devices.all()) == [device_a]
    expect(customer.locator(".request-header [data-state]")).to_have_attribute("data-state", State.NEW.value)

    # 2. The desk sees it at the top of the queue, with its countdown, and dispatches the suggested engineer.
    desk = new_page(**DESKTOP)
    log_in(desk, live_server, dispatcher.username)
    desk.locator('#mainnav a[href="/service/desk/"]').click()
    desk.wait_for_url(f"{live_server.url}/service/desk/")
    rows = desk.locator("table.queue-table tbody tr")
    expect(rows).to_have_count(3)
    top = rows.first
    expect(top).to_have_attribute("data-request", str(emergency.pk))
    countdown = top.locator(".countdown")
    expect(countdown).to_be_visible()
    expect(countdown).to_have_class(re.compile(r"text-bg-success"))
    expect(countdown.locator(".countdown-text")).to_have_text(re.compile(r"(^|\s)(9|10)\s"))  # 10 min to reply
    desk.screenshot(path=str(shots / "desk-queue.png"), full_page=True)

    top.locator(f'a[href="/service/{emergency.pk}/"]').click()
    desk.wait_for_url(f"{live_server.url}/service/{emergency.pk}/")
    suggestion = desk.locator(f'#action-dispatch input[name=engineer][value="{engineer.pk}"]')
    expect(suggestion).to_be_checked()  # ranked first: on duty, nearest
    desk.locator("#action-dispatch button[type=submit]").click()
    expect(desk.locator(".request-header [data-state]")).to_have_attribute("data-state", State.DISPATCHED.value)
    desk.screenshot(path=str(shots / "request-page-desk.png"), full_page=True)

    # 3. The engineer, on a phone at the site: departs, arrives (the browser's position), writes the work order.
    phone = new_page(**PHONE)
    log_in(phone, live_server, engineer.username)
    phone.goto(f"{live_server.url}/service/work/")
    card = phone.locator(f'.work-card[data-request="{emergency.pk}"]')
    expect(card).to_be_visible()
    expect(card.locator("[data-state]")).to_have_attribute("data-state", State.DISPATCHED.value)
    phone.screenshot(path=str(shots / "my-work-phone.png"), full_page=True)
    width = phone.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["scroll"] <= width["inner"] + 1, f"horizontal scrolling on a phone: {width}"

    card.locator(f'form[action="/service/{emergency.pk}/depart/"] button').click()
    expect(card.locator("[data-state]")).to_have_attribute("data-state", State.EN_ROUTE.value)
    card.locator("[data-arrive-button]").click()
    expect(card.locator("[data-state]")).to_have_attribute("data-state", State.ON_SITE.value)
    arrived = emergency.events.get(kind=EventKind.ARRIVED)
    assert arrived.data["proof"] == "position" and arrived.data["distance_m"] < 100 and not arrived.data["far"]
    phone.screenshot(path=str(shots / "my-work-phone-on-site.png"), full_page=True)

    card.locator(f'a[href="/service/{emergency.pk}/work-order/"]').click()
    phone.fill("#id_actions", "更换核心交换机电源模块，解码器恢复输出")
    phone.select_option("#id_part_1", str(adapter.pk))  # from the van, the location chosen by default
    expect(phone.locator("#id_location_1")).to_have_value(str(van.pk))
    phone.fill("#id_quantity_1", "1")
    phone.fill("#id_parts_used", "扎带 ×4")  # the parts note: not in the catalogue
    phone.fill("#id_minutes_spent", "45")
    phone.locator('label[for="id_result_0"]').click()  # solved
    phone.screenshot(path=str(shots / "work-order-phone.png"), full_page=True)
    width = phone.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["scroll"] <= width["inner"] + 1, f"horizontal scrolling on a phone: {width}"
    phone.locator("form.work-order-form button[type=submit]").click()
    phone.wait_for_url(f"{live_server.url}/service/{emergency.pk}/sign/")
    expect(phone.locator(".part-lines .part-line")).to_have_text(re.compile("电源适配器 12V 2A.*×1.*张工随车"))
    used = Movement.objects.get(kind="used")
    assert (used.part, used.location, used.quantity, used.work_order.request) == (adapter, van, 1, emergency)

    # 4. The customer signs on the engineer's screen.
    phone.fill("#id_confirm-signer_name", "李主任")
    phone.locator('label[for="id_confirm-satisfaction_0"]').click()  # 5 stars
    canvas = phone.locator("canvas.signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    phone.mouse.move(box["x"] + 30, box["y"] + 120)
    phone.mouse.down()
    for step in range(1, 13):
        phone.mouse.move(box["x"] + 30 + step * 22, box["y"] + 120 - (step % 4) * 25, steps=3)
    phone.mouse.up()
    phone.screenshot(path=str(shots / "signature-phone.png"), full_page=True)
    phone.locator("form.signature-form button[type=submit]").click()
    phone.wait_for_url(f"{live_server.url}/service/work/")

    emergency.refresh_from_db()
    assert emergency.state == State.CLOSED
    work_order = emergency.work_orders.get()
    assert work_order.state == WorkOrderState.CONFIRMED and work_order.confirmed_via == "signature"
    assert work_order.signer_name == "李主任" and work_order.satisfaction == 5
    assert work_order.signature.read(8) == b"\x89PNG\r\n\x1a\n"

    # The engineer leaves only after the confirmation; time on site is recorded.
    card.locator(f'form[action="/service/{emergency.pk}/leave/"] button').click()
    expect(card).to_have_count(0)
    assert emergency.events.filter(kind=EventKind.LEFT).exists()

    # 5. The customer sees the request closed, with the signature and the whole timeline.
    customer.reload()
    expect(customer.locator(".request-header [data-state]")).to_have_attribute("data-state", State.CLOSED.value)
    expect(customer.locator("img.signature-image")).to_be_visible()
    customer.screenshot(path=str(shots / "request-page-customer.png"), full_page=True)
    kinds = list(emergency.events.values_list("kind", flat=True))
    assert kinds[:1] == [EventKind.CREATED] and EventKind.CONFIRMED in kinds
    # Desk queue, request page and its htmx panels, the phone's arrival (position) and the signature pad:
    # nothing was blocked by the Content-Security-Policy.
    assert csp_violations == []
