"""Issue 21 §7: every list works on a 390 px phone. Below Bootstrap's sm breakpoint the rows of the customer's
requests (我的报修), the desk queue, the staff request list and the devices show as cards (the same markup as the
desktop table, restyled by app.css), notifications are a list that wraps; the filters are folded behind a button
that counts the active ones. On each: nothing scrolls sideways, and a request's number, state and countdown lie
inside the viewport's width. At 1280 px the same pages keep their tables and show their filters.

Screenshots of each list at 390 and 1280 px go to the test's output folder (test-results/…) for a human to look at.
"""

import re
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from aftersales.notify import services as notify
from aftersales.service import verbs
from aftersales.service.models import Priority
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 390
PHONE = {"viewport": {"width": PHONE_WIDTH, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
LONG_TITLE = "园区东门、西门、地下车库出入口共十二台摄像机同时离线，监控中心大屏无画面，值班人员无法巡视"

# Every document reports what its Content-Security-Policy blocked (no inline script or style on these pages).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportCspViolation({directive: event.effectiveDirective, blocked: event.blockedURI, page: document.URL});
});
"""


@pytest.fixture
def new_page(browser: Browser):
    """A logged-in page in a fresh browser context of the given size; every context is closed before the live server
    stops, and a violation of the Content-Security-Policy fails the test."""
    contexts, violations = [], []

    def make(live_server, username: str, **options) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        context.expose_function("reportCspViolation", lambda violation: violations.append(violation))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda url: "/login/" not in url)  # each role lands on its own page
        return page

    yield make
    for context in contexts:
        context.close()
    assert violations == []


@pytest.fixture
def requests_of_a(dispatcher, customer_user_a, project_a, device_a):
    """Open requests of project_a's customer, one of each priority, one with a long title; the customer opened two."""
    opened = [verbs.open_request(by=dispatcher, project=project_a, priority=priority, channel="phone", title=title,
                                 description="业主来电", devices=[device_a])
              for priority, title in ((Priority.EMERGENCY, "监控中心全部黑屏"), (Priority.SERIOUS, LONG_TITLE),
                                      (Priority.GENERAL, "门禁读卡器偶发失灵"))]
    opened += [verbs.open_request(by=customer_user_a, project=project_a, priority=Priority.GENERAL, channel="portal",
                                  title=title, description="门户报修", customer_rank=rank)
               for rank, title in ((1, "客户端回放卡顿"), (2, "存储空间告警"))]
    return opened


def shoot(page: Page, output_path, name: str) -> None:
    folder = Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways on a phone: {width} px wide"


def assert_within_the_width(locator) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH, (str(locator), box)


def assert_filters_folded(page: Page, active: int = 0) -> None:
    """Folded behind the button, which counts the active filters; a tap unfolds them, within the width."""
    toggle, filters = page.locator("button.filter-toggle"), page.locator("#list-filters")
    expect(filters).to_be_hidden()
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    badge = toggle.locator(".badge")
    if active:
        expect(badge.locator("[aria-hidden=true]")).to_have_text(str(active))
    else:
        expect(badge).to_have_count(0)
    toggle.click()
    expect(filters).to_have_class(re.compile(r"\bcollapse show\b"))  # unfolded, its transition over
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert_within_the_width(filters.locator("button[type=submit]"))
    assert_no_sideways_scroll(page)
    toggle.click()
    expect(filters).to_be_hidden()


def assert_request_card(page: Page, request_obj, *, with_countdown: bool = True) -> None:
    """The request's number, state and countdown are seen without scrolling sideways."""
    card = page.locator(f'tr[data-request="{request_obj.pk}"]')
    expect(card).to_have_css("display", "flex")
    assert_within_the_width(card.get_by_role("link", name=request_obj.number, exact=True))
    with translation.override("zh-hans"):
        state = str(request_obj.get_state_display())
    assert_within_the_width(card.locator(".badge", has_text=state).first)
    if with_countdown:
        assert_within_the_width(card.locator(".countdown"))


def assert_desktop_table(page: Page, table: str) -> None:
    """At 1280 px: the table as it was, with its header row, and the filters shown without a button."""
    expect(page.locator(f"{table} thead th").first).to_be_visible()
    expect(page.locator(f"{table} tbody tr").first).to_have_css("display", "table-row")
    expect(page.locator("#list-filters")).to_be_visible()
    expect(page.locator("button.filter-toggle")).to_be_hidden()


def test_the_customers_requests_are_cards_with_their_order_on_a_phone(new_page, live_server, output_path,
                                                                       customer_user_a, requests_of_a):
    page = new_page(live_server, customer_user_a.username, **PHONE)
    page.goto(f"{live_server.url}/service/")
    expect(page.locator("main h1")).to_have_text("我的报修")
    assert_no_sideways_scroll(page)
    for request_obj in requests_of_a:
        assert_request_card(page, request_obj)
    # Their own order of the open requests: a labelled field on each card, and the button to save it.
    ranked = page.locator(f'tr[data-request="{requests_of_a[3].pk}"]')
    expect(ranked.locator("label")).to_have_text("处理顺序")
    assert_within_the_width(ranked.locator(f'input[name="rank_{requests_of_a[3].pk}"]'))
    expect(ranked.locator(f'input[name="rank_{requests_of_a[3].pk}"]')).to_have_value("1")
    assert_within_the_width(page.locator(".request-order-form button[type=submit]"))
    assert_filters_folded(page)
    shoot(page, output_path, "customer-requests-390")

    page.goto(f"{live_server.url}/service/?priority={Priority.EMERGENCY}")
    expect(page.locator("tbody tr[data-request]")).to_have_count(1)
    assert_filters_folded(page, active=1)

    desktop = new_page(live_server, customer_user_a.username, **DESKTOP)
    desktop.goto(f"{live_server.url}/service/")
    assert_desktop_table(desktop, "table.request-table")
    shoot(desktop, output_path, "customer-requests-1280")


def test_the_desk_queue_is_cards_on_a_phone(new_page, live_server, output_path, dispatcher, requests_of_a):
    page = new_page(live_server, dispatcher.username, **PHONE)
    page.goto(f"{live_server.url}/service/desk/")
    expect(page.locator("table.queue-table tbody tr[data-request]")).to_have_count(len(requests_of_a))
    assert_no_sideways_scroll(page)
    for request_obj in requests_of_a:
        assert_request_card(page, request_obj)
    # The risk shows on the card's edge, the sort links stay reachable above the cards.
    first = page.locator("table.queue-table tbody tr[data-request]").first
    expect(first).to_have_css("border-left-width", "4px")
    assert_within_the_width(page.locator("table.queue-table thead .sort-link").first)
    assert_filters_folded(page)
    shoot(page, output_path, "desk-queue-390")

    # The queue refreshes itself by htmx every minute (the table alone, swapped in): the new rows are cards too.
    page.evaluate("""() => new Promise(resolve => {
      document.getElementById("queue").dataset.before = "refresh";
      document.body.addEventListener("htmx:afterSettle", () => resolve(), {once: true});
      htmx.ajax("GET", location.pathname + location.search, {target: "#queue", swap: "outerHTML"});
    })""")
    expect(page.locator("#queue")).to_have_count(1)
    expect(page.locator("#queue[data-before]")).to_have_count(0)
    assert_request_card(page, requests_of_a[0])
    assert_no_sideways_scroll(page)

    desktop = new_page(live_server, dispatcher.username, **DESKTOP)
    desktop.goto(f"{live_server.url}/service/desk/")
    assert_desktop_table(desktop, "table.queue-table")
    shoot(desktop, output_path, "desk-queue-1280")


def test_the_staff_request_list_is_cards_on_a_phone(new_page, live_server, output_path, dispatcher, requests_of_a):
    cancelled = requests_of_a[2]
    verbs.cancel(request=cancelled, by=dispatcher, version=cancelled.version, reason="重复报修")  # no countdown
    page = new_page(live_server, dispatcher.username, **PHONE)
    page.goto(f"{live_server.url}/service/")
    expect(page.locator("main h1")).to_have_text("服务请求")
    assert_no_sideways_scroll(page)
    for request_obj in requests_of_a:
        request_obj.refresh_from_db()
        assert_request_card(page, request_obj, with_countdown=request_obj.is_open)
    assert_filters_folded(page)
    shoot(page, output_path, "staff-requests-390")

    page.goto(f"{live_server.url}/service/?priority={Priority.GENERAL}&q=%E5%AE%A2%E6%88%B7%E7%AB%AF")
    expect(page.locator("tbody tr[data-request]")).to_have_count(1)
    assert_filters_folded(page, active=2)

    desktop = new_page(live_server, dispatcher.username, **DESKTOP)
    desktop.goto(f"{live_server.url}/service/")
    assert_desktop_table(desktop, "table.request-table")
    shoot(desktop, output_path, "staff-requests-1280")


def test_devices_are_cards_on_a_phone(new_page, live_server, output_path, dispatcher, project_a, device_a):
    long_named = DeviceFactory(project=project_a, name="地下车库出入口枪型网络摄像机（东侧）", location="地下二层 B2-17 柱",
                               model="DS-2CD3T46WDV3-I3-LONG-MODEL", serial_number="E6B5B764584271144970001")
    page = new_page(live_server, dispatcher.username, **PHONE)
    page.goto(f"{live_server.url}/devices/")
    assert_no_sideways_scroll(page)
    for device in (device_a, long_named):
        card = page.locator("table.device-table tbody tr", has_text=device.serial_number)
        expect(card).to_have_css("display", "flex")
        assert_within_the_width(card.get_by_role("link", name=device.name, exact=True))
        assert_within_the_width(card.locator("code"))
    assert_filters_folded(page)
    shoot(page, output_path, "devices-390")

    desktop = new_page(live_server, dispatcher.username, **DESKTOP)
    desktop.goto(f"{live_server.url}/devices/")
    assert_desktop_table(desktop, "table.device-table")
    shoot(desktop, output_path, "devices-1280")


def test_notifications_fit_a_phone(new_page, live_server, output_path, dispatcher):
    long_link = "https://aftersales.example/service/" + "0123456789" * 12
    for n, body in enumerate(("请今天到场，带备用硬盘。", f"详情：{long_link}")):
        notify.enqueue(event="request_assigned", about=None, recipients=[dispatcher], subject=f"派单：{LONG_TITLE}",
                       body=body, dedupe_key=f"phone-{n}", url="/service/desk/")
    page = new_page(live_server, dispatcher.username, **PHONE)
    page.goto(f"{live_server.url}/notifications/")
    items = page.locator("main .list-group-item[id^=notification-]")
    expect(items).to_have_count(2)
    assert_no_sideways_scroll(page)
    for item in items.all():
        assert_within_the_width(item)
        assert_within_the_width(item.get_by_role("button", name="查看"))
    shoot(page, output_path, "notifications-390")

    desktop = new_page(live_server, dispatcher.username, **DESKTOP)
    desktop.goto(f"{live_server.url}/notifications/")
    expect(desktop.locator("main .list-group-item[id^=notification-]")).to_have_count(2)
    shoot(desktop, output_path, "notifications-1280")
