"""A customer's user, in a real browser: logs in, sees the Chinese UI, browses only their own devices.

Screenshots for a human to look at go to pytest-playwright's --output folder (gitignored), one folder per test:
test-results/<test>/ with plain `pytest`, test-results/sqlite|postgres/<test>/ under `make test`.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import aftersales
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The Chinese catalogue is written in parallel with these tests and may not exist yet; until it is
# compiled, {% translate "Devices" %} renders in English. The heading assertion below switches itself
# on as soon as the compiled catalogue is there, so it then guards the translation.
ZH_CATALOGUE = Path(aftersales.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"

BOOTSTRAP_DARK = "rgb(33, 37, 41)"  # Bootstrap 5.3's .bg-dark: proves the static CSS was served


def record_static_failures(page: Page) -> list[str]:
    """Every /static/ request that failed or didn't answer 200, appended as it happens."""
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url} {r.failure}") if "/static/" in r.url else None)
    page.on("response", lambda r: failures.append(f"{r.url} {r.status}") if "/static/" in r.url and r.status != 200 else None)
    return failures


def log_in(page: Page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)  # each role lands on its own page (reports.views.landing_of)
    expect(page.locator("#id_password")).to_have_count(0)


def assert_styled(page: Page) -> None:
    navbar = page.locator("nav.navbar")
    expect(navbar).to_have_css("background-color", BOOTSTRAP_DARK)


def test_customer_logs_in_and_sees_only_own_devices(
    page: Page, live_server, output_path, customer_user_a, device_a, device_b
):
    static_failures = record_static_failures(page)
    log_in(page, live_server, customer_user_a.username)

    # The Chinese UI: Simplified Chinese is the default whatever the browser's Accept-Language says.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    nav = page.locator("nav.navbar #mainnav")
    expect(nav).to_be_visible()
    expect(nav.locator('a[href="/devices/"]')).to_be_visible()
    assert_styled(page)

    # The device list, reached through the navigation.
    nav.locator('a[href="/devices/"]').click()
    page.wait_for_url(f"{live_server.url}/devices/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    heading = page.locator("main h1")
    if ZH_CATALOGUE.exists():  # conditional only because the catalogue may not exist yet (see ZH_CATALOGUE)
        expect(heading).to_contain_text("设备")
    table = page.locator("main table")
    expect(table).to_contain_text(device_a.serial_number)
    expect(table).not_to_contain_text(device_b.serial_number)
    # Nothing of the other customer anywhere in the page, filter choices included.
    html = page.content()
    for leak in (device_b.serial_number, device_b.project.name, device_b.project.customer.name):
        assert leak not in html, f"{leak!r} of another customer is on the device list"
    page.screenshot(path=str(Path(output_path) / "device-list.png"), full_page=True)

    # device_a's page.
    page.get_by_role("link", name=device_a.name, exact=True).click()
    page.wait_for_url(f"{live_server.url}/devices/{device_a.pk}/")
    expect(heading).to_have_text(device_a.name)
    expect(page.locator("main")).to_contain_text(device_a.serial_number)
    expect(page.locator("main")).to_contain_text(device_a.project.name)
    assert_styled(page)
    page.screenshot(path=str(Path(output_path) / "device-page.png"), full_page=True)

    # Another customer's device, by URL: the 404 page, which doesn't leak anything about it.
    response = page.goto(f"{live_server.url}/devices/{device_b.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("main .alert-warning h1")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(device_b.serial_number)
    expect(page.locator("main")).not_to_contain_text(device_b.name)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.screenshot(path=str(Path(output_path) / "device-b-404.png"), full_page=True)

    assert static_failures == []


@pytest.mark.browser_context_args(
    viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
)
def test_device_page_fits_a_phone(page: Page, live_server, output_path, customer_user_a, device_a):
    static_failures = record_static_failures(page)
    log_in(page, live_server, customer_user_a.username)
    page.goto(f"{live_server.url}/devices/{device_a.pk}/")
    expect(page.locator("main h1")).to_have_text(device_a.name)
    assert_styled(page)
    # Collapsed navigation on a phone: the toggler shows, the menu is hidden until tapped.
    expect(page.locator(".navbar-toggler")).to_be_visible()
    expect(page.locator("#mainnav")).to_be_hidden()

    width = page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    page.screenshot(path=str(Path(output_path) / "device-page-phone.png"), full_page=True)
    assert width["inner"] == 390
    assert width["scroll"] <= width["inner"] + 1, f"horizontal scrolling on a phone: {width}"
    assert static_failures == []
