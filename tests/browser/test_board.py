"""Issue 21 §10 in a real browser: the desk opens the dispatch board from the menu, sees who is free and who is on
call, and assigns a waiting request to a free engineer; the board then shows it in that engineer's today cell. The
same board at 390 px is a stack of cards with no sideways scrolling. Screenshots go to test-results/ for a human
to look at. Any violation of the Content-Security-Policy fails the test."""

from datetime import time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from aftersales.accounts import roles
from aftersales.accounts.models import Position
from aftersales.service import verbs
from aftersales.service.models import Priority, ServiceRequest, SlaPolicy, State
from tests.conftest import PASSWORD
from tests.factories import OnCallShiftFactory, StaffFactory, current_version

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1360, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

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
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.fixture
def desk_world(db, dispatcher, engineer, branch_a, project_a):
    assert SlaPolicy.objects.filter(is_default=True).exists()  # re-created after every flush (post_migrate)
    engineer.full_name = "李值班"
    engineer.save(update_fields=["full_name"])
    OnCallShiftFactory(user=engineer, branch=branch_a, start_time=time(0), end_time=time(0))  # 7×24
    free = StaffFactory(username="free_eng", full_name="王空闲", branch=branch_a, position=Position.ENGINEER,
                        role=roles.ENGINEER)
    OnCallShiftFactory(user=free, branch=branch_a, start_time=time(20), end_time=time(8))  # every night
    busy = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.EMERGENCY, channel="phone",
                              title="监控中心全部黑屏", description="所有解码器无输出")
    verbs.dispatch(request=busy, by=dispatcher, version=current_version(busy), engineer=engineer)
    planned = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                                 title="门禁读卡器偶发失灵", description="业主来电")
    appointment = (timezone.localtime() + timedelta(days=2)).replace(hour=14, minute=30, second=0, microsecond=0)
    verbs.reply(request=planned, by=dispatcher, version=current_version(planned), mode="onsite", plan="后天下午上门",
                scheduled_for=appointment)
    verbs.dispatch(request=planned, by=dispatcher, version=current_version(planned), engineer=engineer)
    waiting = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel="phone",
                                 title="存储空间告警", description="NVR 硬盘满")
    verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                       title="摄像机画面模糊", description="大门口")
    return {"free": free, "busy": busy, "planned": planned, "waiting": waiting}


def test_the_desk_assigns_a_waiting_request_from_the_board(new_page, live_server, output_path, dispatcher, engineer,
                                                            desk_world):
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)
    free, waiting = desk_world["free"], desk_world["waiting"]

    desk = new_page(**DESKTOP)
    log_in(desk, live_server, dispatcher.username)
    desk.locator('#mainnav a[href="/service/board/"]').click()
    desk.wait_for_url(f"{live_server.url}/service/board/")
    lines = desk.locator("table.board-table tbody tr.board-line")
    expect(lines).to_have_count(2)
    mine = desk.locator(f'tr.board-line[data-engineer="{engineer.pk}"]')
    expect(mine.locator(".board-status")).to_have_attribute("data-status", "busy")
    expect(mine.locator(".board-on-call-now")).to_be_visible()
    expect(mine.locator(f'td.board-today .board-item[data-request="{desk_world["busy"].pk}"] .countdown')).to_be_visible()
    expect(mine.locator(f'.board-item[data-request="{desk_world["planned"].pk}"] .board-appointment')).to_be_visible()
    theirs = desk.locator(f'tr.board-line[data-engineer="{free.pk}"]')
    expect(theirs.locator(".board-status")).to_have_attribute("data-status", "free")
    expect(theirs.locator(".board-tonight")).to_be_visible()
    expect(desk.locator(".waiting-card")).to_have_count(2)
    desk.screenshot(path=str(shots / "board-desktop.png"), full_page=True)

    card = desk.locator(f"#waiting-{waiting.pk}")
    card.locator("select[name=engineer]").select_option(str(free.pk))
    card.locator("button[type=submit]").click()
    desk.wait_for_url(f"{live_server.url}/service/board/?branch=*")
    expect(desk.locator(".alert-success")).to_contain_text(waiting.number)
    expect(desk.locator(".waiting-card")).to_have_count(1)
    expect(theirs.locator(f'td.board-today .board-item[data-request="{waiting.pk}"]')).to_be_visible()
    expect(theirs.locator(".board-status")).to_have_attribute("data-status", "busy")
    waiting.refresh_from_db()
    assert waiting.state == State.DISPATCHED and waiting.assignee_id == free.pk
    desk.screenshot(path=str(shots / "board-desktop-assigned.png"), full_page=True)


def test_the_board_at_390_px_is_a_stack_of_cards(new_page, live_server, output_path, dispatcher, engineer, desk_world):
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)
    phone = new_page(**PHONE)
    log_in(phone, live_server, dispatcher.username)
    phone.goto(f"{live_server.url}/service/board/")
    expect(phone.locator("tr.board-line")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    first, second = (phone.locator("tr.board-line").nth(n).bounding_box() for n in (0, 1))
    assert second["y"] >= first["y"] + first["height"]  # cards one below the other
    assert first["width"] <= 390
    expect(phone.locator("table.board-table thead")).not_to_be_in_viewport()
    mine = phone.locator(f'tr.board-line[data-engineer="{engineer.pk}"]')
    expect(mine.locator(f'.board-item[data-request="{desk_world["busy"].pk}"] .countdown')).to_be_visible()
    waiting = phone.locator(f'#waiting-{desk_world["waiting"].pk}')
    expect(waiting.locator("button[type=submit]")).to_be_visible()
    phone.screenshot(path=str(shots / "board-390.png"), full_page=True)
    assert ServiceRequest.objects.filter(state=State.NEW).count() == 2
