"""Issue 11 §2: device QR labels (一机一码扫码报修). The label sheet, the scan page (a user's pre-filled form or
the public form), the public report (unverified, rate-limited, nothing beyond the label revealed) and the
reporter's tokened follow page (that one request and nothing else)."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from aftersales.accounts import roles
from aftersales.assets.models import Device
from aftersales.intake.labels import codes, reports
from aftersales.intake.models import ReportThrottle
from aftersales.service import verbs
from aftersales.service.models import Attachment, Channel, EventKind, ServiceRequest, State, TimelineEvent

from ..concurrency import database_for_threads, in_threads
from ..factories import DeviceCategoryFactory, DeviceFactory, StaffFactory, UserFactory, current_version

SH = ZoneInfo("Asia/Shanghai")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def client(client):
    """English msgids, so the assertions read the same before and after the Chinese catalogue has them."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def clock(frozen_clock):
    frozen_clock.move_to(datetime(2026, 11, 26, 10, 20, tzinfo=SH))
    return frozen_clock


@pytest.fixture
def labelled(device_a):
    """device_a with everything a label prints."""
    device_a.name, device_a.model, device_a.serial_number, device_a.location = "东门枪机", "DS-2CD3T46", "SN-EAST-01", "东门岗亭"
    device_a.save()
    return device_a


def scan(code: str) -> str:
    return reverse("intake:label_scan", args=[code])


def report(client, device, *, name="王师傅", phone="138 0013 8000", description="画面全黑\n昨晚开始没有图像",
           photo=None, address="203.0.113.7"):
    data = {"reporter_name": name, "reporter_phone": phone, "description": description}
    if photo is not None:
        data["photo"] = photo
    return client.post(scan(device.label_code), data, REMOTE_ADDR=address)


def written() -> tuple:
    """Everything a public report could write."""
    return (ServiceRequest.objects.count(), TimelineEvent.objects.count(), Attachment.objects.count(),
            list(ReportThrottle.objects.order_by("pk").values_list("key", "count")))


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ------------------------------------------------------------------------------------------ codes

def test_codes_are_random_unique_and_unguessable(project_a):
    devices = DeviceFactory.create_batch(50, project=project_a)
    codes = [d.label_code for d in devices]
    assert len(set(codes)) == 50
    assert all(len(code) >= 16 and re.fullmatch(r"[A-Za-z0-9_-]+", code) for code in codes)
    # Neighbouring devices share no structure: no common prefix beyond chance.
    assert len({code[:4] for code in codes}) > 40


def test_a_code_is_stable(labelled):
    code = labelled.label_code
    labelled.name = "东门枪机（更换后）"
    labelled.save()
    labelled.refresh_from_db()
    assert labelled.label_code == code


@pytest.mark.parametrize("make_code", [
    lambda code: "x" + code[1:] if code[0] != "x" else "y" + code[1:],  # one character changed
    lambda code: code[:-1],  # shortened
    lambda code: code + "A",  # lengthened
    lambda code: code.upper() if code.upper() != code else code.lower(),  # case changed
    lambda code: "A" * 200,  # longer than any code
    lambda code: "0",
])
def test_an_unknown_code_is_404_for_everyone(make_code, client, labelled, device_b, customer_user_a, general_manager):
    url = scan(make_code(labelled.label_code))
    assert client.get(url).status_code == 404
    assert client.post(url, {"reporter_name": "x"}).status_code == 404
    for user in (customer_user_a, general_manager):
        client.force_login(user)
        assert client.get(url).status_code == 404


# ------------------------------------------------------------------------------------------ scanning as a user

def test_a_customer_user_scanning_gets_the_portal_form_prefilled_with_the_device(client, customer_user_a, labelled, project_a):
    other = DeviceFactory(project=project_a, name="西门球机")
    client.force_login(customer_user_a)
    response = client.get(scan(labelled.label_code))
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "service/request_form.html"
    form = response.context["form"]
    assert form["project"].value() == project_a.pk
    assert list(form.fields["project"].queryset) == [project_a]
    page = response.content.decode()
    assert f'value="{labelled.pk}" id="device-{labelled.pk}" checked' in page
    assert f'value="{other.pk}" id="device-{other.pk}">' in page  # listed, not ticked

    response = client.post(scan(labelled.label_code), {
        "project": project_a.pk, "devices": [labelled.pk], "priority": "serious", "title": "东门无图像",
        "description": "东门枪机黑屏",
    })
    created = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert (created.channel, created.reporter, created.reporter_verified) == (Channel.LABEL, customer_user_a, True)
    assert (created.project, list(created.devices.all()), created.priority) == (project_a, [labelled], "serious")


def test_staff_who_see_the_device_get_the_prefilled_form(client, engineer, general_manager, labelled):
    for user in (engineer, general_manager):  # own branch; all branches
        client.force_login(user)
        response = client.get(scan(labelled.label_code))
        assert [t.name for t in response.templates][0] == "service/request_form.html", user
        assert response.context["form"]["devices"].value() == [labelled.pk]


def test_the_scanned_device_is_offered_even_in_a_project_with_more_devices_than_the_list_shows(client, customer_user_a,
                                                                                             project_a, monkeypatch):
    from aftersales.service.views import intake_forms

    monkeypatch.setattr(intake_forms, "DEVICE_CHOICES_LIMIT", 2)
    devices = [DeviceFactory(project=project_a, name=f"A{n}") for n in range(3)] + [DeviceFactory(project=project_a, name="Z 最后")]
    client.force_login(customer_user_a)
    page = client.get(scan(devices[-1].label_code)).content.decode()
    assert f'value="{devices[-1].pk}" id="device-{devices[-1].pk}" checked' in page
    assert f'id="device-{devices[0].pk}"' in page and f'id="device-{devices[2].pk}"' not in page  # the limit held


def test_a_user_form_posting_a_device_of_another_project_is_refused(client, customer_user_a, labelled, project_a, device_b):
    client.force_login(customer_user_a)
    response = client.post(scan(labelled.label_code), {
        "project": device_b.project_id, "devices": [device_b.pk], "priority": "general", "title": "x", "description": "y"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not ServiceRequest.objects.exists()


# ------------------------------------------------------------------------------------------ scanning as anyone else

@pytest.mark.parametrize("who", ["anonymous", "customer_user_b", "staff_of_another_branch"])
def test_anyone_else_gets_the_public_form_showing_only_the_label(who, client, request, labelled, customer_user_b, branch_b):
    if who == "customer_user_b":
        client.force_login(customer_user_b)  # another customer's user is treated as anonymous
    elif who == "staff_of_another_branch":
        client.force_login(StaffFactory(branch=branch_b, role=roles.DISPATCHER))  # staff of another branch
    response = client.get(scan(labelled.label_code))
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "intake/label_report.html"
    main = re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)
    for printed in ("东门枪机", "DS-2CD3T46", "SN-EAST-01", "东门岗亭", settings.SERVICE_HOTLINE):
        assert printed in main
    project = labelled.project
    for secret in (project.name, project.contract_number, project.customer.name, labelled.manufacturer.name,
                   f"/devices/{labelled.pk}/", f"/customers/projects/{project.pk}/"):
        assert secret not in main
    assert "request-form" not in main and 'name="project"' not in main


def test_another_customers_user_reports_as_anonymous_not_through_their_portal(client, customer_user_b, labelled, clock):
    client.force_login(customer_user_b)
    response = report(client, labelled)
    assert response.status_code == 302
    created = ServiceRequest.objects.get()
    assert created.reporter is None and not created.reporter_verified and created.customer_id == labelled.project.customer_id
    # and their own portal shows nothing of it
    assert customer_user_b.customer_id != created.customer_id
    assert client.get(reverse("service:request_detail", args=[created.pk])).status_code == 404


def test_a_device_of_another_project_cannot_be_reached_by_changing_the_code(client, customer_user_a, labelled, device_b):
    """Codes are random: another project's device is reached only with its own code, and then only as the public
    form of what its label shows, never through customer A's portal."""
    client.force_login(customer_user_a)
    own = client.get(scan(labelled.label_code))
    assert own.context["form"]["devices"].value() == [labelled.pk]
    foreign = client.get(scan(device_b.label_code))
    assert [t.name for t in foreign.templates][0] == "intake/label_report.html"
    assert device_b.project.name not in foreign.content.decode()
    for near in {labelled.label_code[:-1] + c for c in "AaZz09-_"} - {labelled.label_code, device_b.label_code}:
        assert client.get(scan(near)).status_code == 404


# ------------------------------------------------------------------------------------------ the public report

def test_a_public_report_opens_an_unverified_label_request_and_links_to_its_follow_page(client, labelled, clock):
    before_files = media_files()
    response = report(client, labelled, photo=SimpleUploadedFile("相机.png", PNG, content_type="image/png"))
    created = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:report_follow", args=[created.public_token])
    assert (created.channel, created.reporter_verified, created.priority, created.state) == (Channel.LABEL, False, "general", State.NEW)
    assert (created.title, created.description) == ("画面全黑", "画面全黑\n昨晚开始没有图像")
    assert (created.project, list(created.devices.all())) == (labelled.project, [labelled])
    assert (created.reporter, created.reporter_name, created.reporter_phone) == (None, "王师傅", "13800138000")
    assert created.customer_id == labelled.project.customer_id and created.branch_id == labelled.project.branch_id
    photo = created.attachments.get()
    assert (photo.content_type, photo.original_name, photo.uploaded_by) == ("image/png", "相机.png", None)
    assert len(media_files()) == len(before_files) + 1
    assert list(created.events.values_list("kind", flat=True)) == [EventKind.CREATED]  # the photo is stored with it
    assert created.reply_due_at is not None  # the SLA clock runs like any request's

    follow = client.get(response["Location"])
    assert follow.status_code == 200
    assert created.number in follow.content.decode()
    assert follow["Referrer-Policy"] == "no-referrer" and "no-store" in follow["Cache-Control"]


def test_the_title_is_the_first_line_cut_to_fit(client, labelled, clock):
    report(client, labelled, description="\n\n  " + "很长" * 150 + "  \n第二行")
    created = ServiceRequest.objects.get()
    assert len(created.title) == 200 and created.title.endswith("…") and created.title.startswith("很长")


@pytest.mark.parametrize("phone", ["123456", "1" * 21, "138-abc-8000", "++8613800138000", "138 0013 800x", "-1380013800",
                                   "", "电话13800138000"])
def test_a_bad_phone_number_is_refused_and_nothing_is_written(phone, client, labelled, clock):
    before = written()
    response = report(client, labelled, phone=phone)
    assert response.status_code == 200 and "reporter_phone" in response.context["form"].errors
    assert written() == before


@pytest.mark.parametrize(("typed", "stored"), [
    ("13800138000", "13800138000"), ("+86-138-0013-8000", "+86-138-0013-8000"), ("0951-1234567", "0951-1234567"),
    ("１３８００１３８０００", "13800138000"), ("138 0013 8000", "13800138000"), ("1234567", "1234567"),
])
def test_phone_numbers_as_people_type_them(typed, stored, client, labelled, clock):
    assert report(client, labelled, phone=typed).status_code == 302
    assert ServiceRequest.objects.get().reporter_phone == stored


@pytest.mark.parametrize("upload", [
    SimpleUploadedFile("report.pdf", b"%PDF-1.4 not a photo", content_type="image/png"),
    SimpleUploadedFile("photo.png", b"MZ\x90\x00 an executable", content_type="image/png"),
])
def test_a_photo_must_be_an_image_by_its_bytes(upload, client, labelled, clock):
    before = written(), media_files()
    response = report(client, labelled, photo=upload)
    assert response.status_code == 200 and "photo" in response.context["form"].errors
    assert (written(), media_files()) == before


def test_a_photo_is_size_limited(client, labelled, clock, monkeypatch):
    from aftersales.service import attachments

    monkeypatch.setattr(attachments, "MAX_BYTES", 50)
    before = written()
    response = report(client, labelled, photo=SimpleUploadedFile("big.png", PNG + b"\0" * 100, content_type="image/png"))
    assert "photo" in response.context["form"].errors and written() == before


def test_the_public_form_keeps_csrf_protection(labelled, clock):
    strict = Client(enforce_csrf_checks=True)
    before = written()
    response = strict.post(scan(labelled.label_code), {"reporter_name": "x", "reporter_phone": "13800138000",
                                                       "description": "y"})
    assert response.status_code == 403 and written() == before
    page = strict.get(scan(labelled.label_code))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = strict.post(scan(labelled.label_code), {"csrfmiddlewaretoken": token, "reporter_name": "x",
                                                       "reporter_phone": "13800138000", "description": "y"})
    assert response.status_code == 302


# ------------------------------------------------------------------------------------------ rate limits

def test_a_device_takes_three_reports_an_hour_then_429_and_nothing_is_written(client, labelled, clock):
    for n in range(3):
        assert report(client, labelled, address=f"198.51.100.{n}").status_code == 302
    before, files = written(), media_files()
    response = report(client, labelled, address="198.51.100.99",
                      photo=SimpleUploadedFile("p.png", PNG, content_type="image/png"))
    assert response.status_code == 429
    assert (written(), media_files()) == (before, files)
    # 10:20 now; the hour's window ends at 11:00
    assert response["Retry-After"] == str(40 * 60)
    assert "11:00" in response.content.decode() and settings.SERVICE_HOTLINE in response.content.decode()

    clock.shift(timedelta(minutes=40))  # the next hour
    assert report(client, labelled, address="198.51.100.99").status_code == 302


def test_the_429_page_speaks_chinese(labelled, clock):
    chinese = Client()  # no language cookie: the default UI language
    for n in range(3):
        report(chinese, labelled, address=f"198.51.100.{n}")
    response = report(chinese, labelled, address="198.51.100.99")
    assert response.status_code == 429 and response["Content-Language"] == "zh-hans"
    with translation.override("zh-hans"):
        title = translation.gettext("Too many reports")
    assert re.search(r"[\u4e00-\u9fff]", title), "“Too many reports” has no Chinese translation in the catalogue"
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page and title in page and "11:00" in page


def test_an_address_takes_ten_reports_a_day_then_429(client, project_a, clock):
    devices = DeviceFactory.create_batch(11, project=project_a)
    for device in devices[:10]:
        assert report(client, device, address="203.0.113.9").status_code == 302
    before = written()
    response = report(client, devices[10], address="203.0.113.9")
    assert response.status_code == 429 and written() == before
    # 10:20 Shanghai; the day ends at midnight Shanghai time
    assert response["Retry-After"] == str(13 * 3600 + 40 * 60)
    assert report(client, devices[10], address="203.0.113.10").status_code == 302  # another address
    clock.move_to(datetime(2026, 11, 27, 0, 0, 1, tzinfo=SH))
    assert report(client, DeviceFactory(project=project_a), address="203.0.113.9").status_code == 302


def test_an_ipv6_client_counts_as_its_64_network(rf):
    one = reports.client_address(rf.get("/", REMOTE_ADDR="2001:db8:1:2::10"))
    other = reports.client_address(rf.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1"))
    assert one == other == "2001:db8:1:2::/64"
    assert reports.client_address(rf.get("/", REMOTE_ADDR="::ffff:192.0.2.1")) == "192.0.2.1"


def test_an_invalid_form_costs_nothing_against_the_limit(client, labelled, clock):
    for _ in range(5):
        report(client, labelled, phone="x")
    assert not ReportThrottle.objects.exists()
    assert report(client, labelled).status_code == 302


def test_the_limit_is_counted_in_the_database(client, labelled, clock):
    """Shared by every worker process: the counters are rows, not process memory."""
    report(client, labelled, address="192.0.2.5")
    assert sorted(ReportThrottle.objects.values_list("key", "count")) == [
        ("address:192.0.2.5", 1), (f"device:{labelled.pk}", 1)]
    ReportThrottle.objects.filter(key=f"device:{labelled.pk}").update(count=3)  # as if other workers took them
    assert report(client, labelled, address="192.0.2.6").status_code == 429


def test_old_windows_are_pruned(client, labelled, clock):
    ReportThrottle.objects.create(key="address:old", window_start=datetime(2026, 11, 1, tzinfo=SH), count=10)
    report(client, labelled)
    assert not ReportThrottle.objects.filter(key="address:old").exists()


# ------------------------------------------------------------------------------------------ the follow page

def test_the_follow_page_shows_only_that_request(client, labelled, dispatcher, clock):
    report(client, labelled, name="王师傅", phone="13800138000", description="东门黑屏 机密描述")
    mine = ServiceRequest.objects.get()
    verbs.comment(request=mine, by=dispatcher, text="内部备注：客户欠费")
    clock.shift(timedelta(minutes=5))
    verbs.reply(request=mine, by=dispatcher, version=current_version(mine), mode="onsite", plan="内部方案：派张工")
    other = verbs.open_request(by=dispatcher, project=labelled.project, priority="general", channel="phone",
                               title="别人的问题", description="另一个请求")

    response = client.get(reverse("intake:report_follow", args=[mine.public_token]))
    main = re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)
    assert mine.number in main and 'data-state="replied"' in main
    assert [s["kind"] for s in response.context["steps"]] == [EventKind.CREATED, EventKind.REPLIED]
    for hidden in ("内部备注", "内部方案", "机密描述", "东门黑屏", "王师傅", "13800138000", dispatcher.display_name,
                   dispatcher.username, other.number, "别人的问题", labelled.name, labelled.project.name,
                   labelled.project.customer.name):
        assert hidden not in main, hidden
    assert set(response.context.keys()) >= {"number", "state", "steps"}
    assert "object" not in response.context and "request_obj" not in response.context

    theirs = client.get(reverse("intake:report_follow", args=[other.public_token])).content.decode()
    assert other.number in theirs and mine.number not in theirs


@pytest.mark.parametrize("token", ["wrong-token", "A" * 22, "A" * 200, "0"])
def test_a_wrong_token_is_404(token, client, labelled, clock):
    report(client, labelled)
    assert client.get(reverse("intake:report_follow", args=[token])).status_code == 404


def test_a_changed_token_is_404(client, labelled, clock):
    report(client, labelled)
    token = ServiceRequest.objects.get().public_token
    changed = ("B" if token[0] != "B" else "C") + token[1:]
    assert client.get(reverse("intake:report_follow", args=[changed])).status_code == 404


# ------------------------------------------------------------------------------------------ the label sheet

def sheet(project, **params) -> str:
    return reverse("intake:label_sheet", args=[project.pk]) + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_the_sheet_lists_the_projects_devices_with_their_qr_codes(client, engineer, project_a, project_b, settings):
    settings.SITE_URL = "https://service.example.cn/"
    devices = [DeviceFactory(project=project_a, location=f"{n} 号杆") for n in range(4)]
    foreign = DeviceFactory(project=project_b)
    client.force_login(engineer)
    response = client.get(sheet(project_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<article class="label"') == 4 and page.count('<svg viewBox=') == 4
    for device in devices:
        url = f"https://service.example.cn/intake/d/{device.label_code}/"
        assert codes.scan_url(device.label_code) == url
        assert codes.qr_svg(url) in page  # the QR code of exactly that URL
        for printed in (device.name, device.model, device.serial_number, device.location):
            assert printed in page
    assert settings.SERVICE_HOTLINE in page
    assert foreign.label_code not in page and foreign.name not in page
    assert "aftersales/labels.css" in page  # the print rules, a static file under the CSP
    css = Path(finders.find("aftersales/labels.css")).read_text()
    assert "@page { size: A4" in css and "break-inside: avoid" in css


def test_the_sheet_puts_whole_labels_on_each_page(client, engineer, project_a):
    DeviceFactory.create_batch(23, project=project_a)
    client.force_login(engineer)
    pages = client.get(sheet(project_a)).context["pages"]
    assert [len(p) for p in pages] == [21, 2]
    pages = client.get(sheet(project_a, layout="2x5")).context["pages"]
    assert [len(p) for p in pages] == [10, 10, 3]


def test_the_sheet_filters_by_category(client, engineer, project_a):
    nvr = DeviceCategoryFactory(name="硬盘录像机", code="nvr")
    camera = DeviceFactory(project=project_a)
    recorder = DeviceFactory(project=project_a, category=nvr, name="NVR-01")
    client.force_login(engineer)
    response = client.get(sheet(project_a, category=nvr.pk))
    assert [item["device"] for page in response.context["pages"] for item in page] == [recorder]
    assert camera.label_code not in response.content.decode()
    assert {c.name for c in response.context["categories"]} == {"硬盘录像机", camera.category.name}


def test_the_sheet_of_another_customers_project_is_404(client, customer_user_a, engineer, project_b, device_b):
    for user in (customer_user_a, engineer):  # another customer; another branch
        client.force_login(user)
        assert client.get(sheet(project_b)).status_code == 404


def test_the_sheet_is_403_without_permission_and_asks_anonymous_to_log_in(client, project_a, branch_a):
    assert client.get(sheet(project_a))["Location"].startswith("/login/")
    client.force_login(StaffFactory(branch=branch_a))  # no role: no assets.view_device
    assert client.get(sheet(project_a)).status_code == 403


def test_the_sheet_costs_the_same_queries_for_3_and_30_devices(client, engineer, project_a):
    client.force_login(engineer)

    def queries_for(n):
        while Device.objects.filter(project=project_a).count() < n:
            DeviceFactory(project=project_a)
        client.get(sheet(project_a))  # the worker's caches (permissions) are warm in production
        with CaptureQueriesContext(connection) as captured:
            response = client.get(sheet(project_a))
        assert response.content.decode().count('<article class="label"') == n
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_the_project_page_offers_the_labels_to_staff_only(client, engineer, customer_user_a, project_a):
    link = reverse("intake:label_sheet", args=[project_a.pk])
    client.force_login(engineer)
    assert link in client.get(project_a.get_absolute_url()).content.decode()
    client.force_login(customer_user_a)
    assert link not in client.get(project_a.get_absolute_url()).content.decode()


def test_labels_need_no_login_to_scan_but_never_show_the_sheet(client, labelled):
    assert client.get(scan(labelled.label_code)).status_code == 200
    assert client.get(sheet(labelled.project)).status_code == 302


def test_a_customer_user_without_the_report_permission_gets_the_public_form(client, customer_a, labelled):
    viewer = UserFactory(customer=customer_a)  # no role at all
    client.force_login(viewer)
    assert [t.name for t in client.get(scan(labelled.label_code)).templates][0] == "intake/label_report.html"


def test_the_sheet_is_in_the_order_an_installer_walks_the_site(client, engineer, project_a):
    for location in ("东门 10 号杆", "东门 2 号杆", "北门", "东门 1 号杆"):
        DeviceFactory(project=project_a, location=location)
    client.force_login(engineer)
    pages = client.get(sheet(project_a)).context["pages"]
    assert [item["device"].location for item in pages[0]] == ["东门 1 号杆", "东门 2 号杆", "东门 10 号杆", "北门"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_cannot_overrun_the_device_limit(labelled, tmp_path):
    """Ten reporters at once, each on its own database connection (as separate worker processes would be):
    exactly three requests are opened, the others are refused."""

    def one(n):
        try:
            reports.report_from_label(device=labelled, reporter_name=f"路人{n}", reporter_phone="13800138000",
                                     description="黑屏", address=f"198.51.100.{n}")
        except reports.ReportLimitReached:
            return "refused"
        return "opened"

    with database_for_threads(tmp_path):
        outcomes = in_threads(one, 10)
        seen = in_threads(lambda _i: (ServiceRequest.objects.filter(channel=Channel.LABEL).count(),
                                      ReportThrottle.objects.get(key=f"device:{labelled.pk}").count), 1)[0]
    assert sorted(outcomes) == ["opened"] * 3 + ["refused"] * 7
    assert seen == (3, 3)
