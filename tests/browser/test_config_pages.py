"""Issue 21 §6 in a real browser at desktop width: an administrator opens the service settings from the menu, sees
the warning about next year's missing holidays, a year of the public calendar, the policies with their preview, and
a branch's ladder; a step nobody would receive is refused with its reason, a step someone holds is added and shows
who it would notify; a policy's target is changed in its table. A department manager sees only their own branch.
Screenshots go to test-results/ for a human to look at. Any violation of the Content-Security-Policy fails the test."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from aftersales.accounts.models import Position
from aftersales.service.models import EscalationRule, SlaPolicy, SlaTargetRule
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1360, "height": 900}}

REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportCspViolation({directive: event.effectiveDirective, blocked: event.blockedURI, page: document.URL,
                             line: event.lineNumber, sample: event.sample});
});
"""


@pytest.fixture
def new_page(browser: Browser):
    violations, contexts = [], []

    def make(**options) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        context.expose_function("reportCspViolation", lambda violation: violations.append(violation))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert violations == []


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def test_an_administrator_walks_the_configuration_pages(new_page, live_server, output_path, admin_user, manager,
                                                        dispatcher, branch_b, project_a, general_manager):
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = new_page(**DESKTOP)
    log_in(page, live_server, admin_user.username)

    # the menu leads to the settings
    page.locator("nav.navbar a.dropdown-toggle:has(i.bi-sliders)").click()
    page.locator("nav.navbar a[href='/service/config/calendars/']").click()
    page.wait_for_url("**/service/config/calendars/")
    next_year = timezone.localdate().year + 1
    if timezone.localdate().month >= 10:  # from October the next year must be filled in
        expect(page.locator(f"[data-missing-year='{next_year}']")).to_be_visible()
    expect(page.locator("form button[type=submit]").filter(has=page.locator("i.bi-download"))).to_be_visible()
    page.screenshot(path=str(shots / "config-calendars.png"), full_page=True)

    # importing a year the bundled data does not know: a clear message, on the field
    page.fill("#id_year", "2027")
    page.locator("form button[type=submit]:has(i.bi-download)").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("2027")

    # a year of the public calendar: National Day is a named day off, 2026-09-20 a make-up working day
    page.goto(f"{live_server.url}/service/config/calendars/public/?year=2026")
    expect(page.locator("td[data-day='2026-10-01']")).to_have_attribute("data-kind", "off")
    expect(page.locator("td[data-day='2026-09-20']")).to_have_attribute("data-kind", "make_up")
    # importing the known year again fills in the names the first seed did not record, and keeps the rest
    page.locator("button[data-import-year='2026']").click()
    expect(page.locator("tr[data-listed-day='2026-10-01']")).to_contain_text("国庆节")
    expect(page.locator("tr[data-listed-day='2026-09-20']")).to_contain_text("国庆节调休上班")  # its make-up day
    page.locator("tr[data-listed-day='2026-10-01']").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "config-public-2026-named.png"))
    page.screenshot(path=str(shots / "config-public-2026.png"), full_page=True)

    # the policies with the preview of a request opened now
    page.goto(f"{live_server.url}/service/config/policies/")
    expect(page.locator("table[data-preview] tr[data-priority='serious'][data-kind='reply']").first).to_be_visible()
    page.screenshot(path=str(shots / "config-policies.png"), full_page=True)
    page.goto(f"{live_server.url}/service/config/projects/{project_a.pk}/")
    expect(page.locator("#id_policy")).to_be_visible()
    page.screenshot(path=str(shots / "config-project-policy.png"), full_page=True)

    # a branch's ladder: the default applies and the page says a ladder of its own replaces it
    page.goto(f"{live_server.url}/service/config/ladders/{manager.branch_id}/")
    expect(page.locator("[data-replaces-default]")).to_be_visible()
    expect(page.locator("tr[data-level='1']")).to_contain_text(manager.display_name)
    page.screenshot(path=str(shots / "config-ladder-default.png"), full_page=True)

    # a step nobody holds is refused, with the reason on the position
    page.fill("#id_level", "1")
    page.select_option("#id_position", Position.LOGISTICS)
    page.locator("form button[type=submit]:has(i.bi-plus-lg)").click()
    expect(page.locator(".invalid-feedback")).to_be_visible()
    assert not EscalationRule.objects.exists()
    page.screenshot(path=str(shots / "config-ladder-refused.png"), full_page=True)

    # a step the dispatcher holds is added and shows who it notifies; the default's second step is gone
    page.fill("#id_level", "1")
    page.select_option("#id_position", Position.DISPATCHER)
    page.locator("form button[type=submit]:has(i.bi-plus-lg)").click()
    expect(page.locator("tr[data-level='1']")).to_contain_text(dispatcher.display_name)
    expect(page.locator("tr[data-level='2']")).to_have_count(0)
    page.screenshot(path=str(shots / "config-ladder-own.png"), full_page=True)


def test_a_department_manager_sees_only_their_branch(new_page, live_server, output_path, manager, branch_b,
                                                     general_manager):
    page = new_page(**DESKTOP)
    log_in(page, live_server, manager.username)
    page.goto(f"{live_server.url}/service/config/ladders/")
    expect(page.locator(f"table[data-ladder='{manager.branch_id}']")).to_be_visible()
    expect(page.locator(f"table[data-ladder='{branch_b.pk}']")).to_have_count(0)
    page.screenshot(path=str(Path(output_path) / "config-ladders-manager.png"), full_page=True)
    response = page.goto(f"{live_server.url}/service/config/ladders/{branch_b.pk}/")
    assert response.status == 404


def test_an_administrator_changes_a_targets_minutes(new_page, live_server, output_path, admin_user):
    """The targets table at desktop width: the serious reply's 15 minutes become 30; the page says the change reaches
    new requests only, shows the minutes as hours and minutes, and its preview moves with the change."""
    policy = SlaPolicy.objects.get(is_default=True)
    page = new_page(**DESKTOP)
    log_in(page, live_server, admin_user.username)
    page.goto(f"{live_server.url}/service/config/policies/{policy.pk}/")
    expect(page.locator("[data-applies-from-now]")).to_be_visible()
    row = page.locator("tr[data-target='serious-resolution']")
    expect(row.locator("[data-duration]")).to_contain_text("4")  # 240 minutes: 4 h
    page.fill("input[name='serious-reply-minutes']", "30")
    page.locator("form[data-targets-form] button[type=submit]").click()
    expect(page.locator("input[name='serious-reply-minutes']")).to_have_value("30")
    expect(page.locator("table[data-preview] tr[data-priority='serious'][data-kind='reply']")).to_contain_text("30")
    assert SlaTargetRule.objects.get(policy=policy, priority="serious", kind="reply").minutes == 30
    page.screenshot(path=str(Path(output_path) / "config-policy-targets.png"), full_page=True)
