"""Issue 11 §2 in a real browser: the desk prints a project's label sheet (A4, whole labels on each page), and a
passer-by scans a label with a phone, reports the fault without an account and lands on the follow page of
that one request.

The sheet's PDF and PNGs of the pages go to the test output directory for a human to look at.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from aftersales.service.models import Channel, ServiceRequest, SlaPolicy
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"viewport": {"width": 1360, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def new_page(browser: Browser):
    """A page in a fresh browser context; every context is closed before the live server stops."""
    contexts = []

    def make(**options) -> Page:
        context = browser.new_context(**options)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def site(live_server, settings):
    """Labels encode SITE_URL: here, the live server."""
    assert SlaPolicy.objects.filter(is_default=True).exists()  # re-created after every flush (post_migrate)
    settings.SITE_URL = live_server.url
    return live_server


def log_in(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)  # each role lands on its own page (reports.views.landing_of)


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_the_desk_prints_a_label_sheet_of_whole_labels(new_page, site, output_path, dispatcher, project_a):
    devices = [DeviceFactory(project=project_a, name=f"{n + 1:02d} 号枪机（东门停车场入口）", location=f"东门 {n + 1} 号杆",
                             serial_number=f"DS-2CD3T46WDV3-I3{n:04d}AACH12345678") for n in range(23)]
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)

    desk = new_page(**DESKTOP)
    log_in(desk, site, dispatcher.username)
    desk.goto(f"{site.url}{project_a.get_absolute_url()}")
    desk.locator(f'a[href="/intake/projects/{project_a.pk}/labels/"]').click()
    desk.wait_for_url(f"{site.url}/intake/projects/{project_a.pk}/labels/")
    expect(desk.locator("article.label")).to_have_count(23)
    expect(desk.locator("section.sheet")).to_have_count(2)
    first = desk.locator(f'article.label[data-device="{devices[0].pk}"]')
    expect(first.locator(".qr-code svg")).to_be_visible()
    assert first.locator(".qr-code").get_attribute("title") == f"{site.url}/intake/d/{devices[0].label_code}/"
    desk.screenshot(path=str(shots / "label-sheet-screen.png"), full_page=True)

    desk.emulate_media(media="print")
    pdf = desk.pdf(format="A4", print_background=True)
    (shots / "label-sheet-3x7.pdf").write_bytes(pdf)
    assert pdf_pages(pdf) == 2  # 21 + 2: no label split, no empty page
    # Every label lies inside one printed page: its box is no taller than a label and the grid never overflows.
    boxes = desk.eval_on_selector_all("article.label", "els => els.map(e => e.getBoundingClientRect().height)")
    assert max(boxes) < 40 * 96 / 25.4 + 1

    desk.goto(f"{site.url}/intake/projects/{project_a.pk}/labels/?layout=2x5")
    desk.emulate_media(media="print")
    pdf = desk.pdf(format="A4", print_background=True)
    (shots / "label-sheet-2x5.pdf").write_bytes(pdf)
    assert pdf_pages(pdf) == 3  # 10 + 10 + 3


def test_a_phone_scans_a_label_and_reports_without_an_account(new_page, site, output_path, project_a, device_a):
    shots = Path(output_path)
    shots.mkdir(parents=True, exist_ok=True)
    label_url = f"{site.url}/intake/d/{device_a.label_code}/"  # what the label's QR code holds

    phone = new_page(**PHONE)
    phone.goto(label_url)
    expect(phone.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(phone.locator("[data-device-name]")).to_have_text(device_a.name)
    expect(phone.locator("main")).not_to_contain_text(project_a.name)
    phone.screenshot(path=str(shots / "label-scan-phone.png"), full_page=True)
    width = phone.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["scroll"] <= width["inner"] + 1, f"horizontal scrolling on a phone: {width}"

    phone.fill("#id_reporter_name", "王师傅")
    phone.fill("#id_reporter_phone", "138 0013 8000")
    phone.fill("#id_description", "东门摄像机画面全黑\n从昨晚开始")
    phone.set_input_files("#id_photo", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    phone.locator("form.public-report-form button[type=submit]").click()
    phone.wait_for_url(re.compile(r".*/intake/follow/[^/]+/$"))

    created = ServiceRequest.objects.get()
    assert (created.channel, created.reporter_verified, created.reporter) == (Channel.LABEL, False, None)
    assert list(created.devices.all()) == [device_a] and created.attachments.count() == 1
    assert phone.url == f"{site.url}/intake/follow/{created.public_token}/"
    expect(phone.locator("[data-number]")).to_have_text(created.number)
    expect(phone.locator("[data-state]")).to_have_attribute("data-state", "new")
    expect(phone.locator(".public-timeline [data-kind]")).to_have_count(1)
    expect(phone.locator("main")).not_to_contain_text("王师傅")
    phone.screenshot(path=str(shots / "label-follow-phone.png"), full_page=True)
    width = phone.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert width["scroll"] <= width["inner"] + 1, f"horizontal scrolling on a phone: {width}"
