"""CUS-3: device import (upload -> preview -> one transaction) and export (lessons.md items 9 and 13)."""

import csv
import io
import re
from datetime import date, datetime

import openpyxl
import pytest
from auditlog.models import LogEntry
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from aftersales.assets import exporting, importing
from aftersales.assets.models import Device, Manufacturer

from ..conftest import api_as
from ..factories import DeviceCategoryFactory, DeviceFactory, ManufacturerFactory, ProjectFactory

HEADERS = ["项目合同号", "设备名称", "设备类别", "生产厂家", "型号", "序列号", "安装位置", "安装日期", "供应商", "备注"]


@pytest.fixture(autouse=True)
def _english(client):
    """Assertions below read the English msgids; the UI's Chinese is checked once, at the end."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def camera(db):
    return DeviceCategoryFactory(name="摄像机", code="camera")


def xlsx_bytes(rows, header=HEADERS, title_row=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title_row:
        sheet.append([title_row])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, header=HEADERS, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(project, serial, **overrides):
    values = {
        "项目合同号": project.contract_number, "设备名称": f"摄像机-{serial}", "设备类别": "摄像机", "生产厂家": "海康威视",
        "型号": "DS-2CD3T46", "序列号": serial, "安装位置": "东门", "安装日期": "2024-03-15", "供应商": "宁夏信达",
        "备注": "",
    }
    values.update(overrides)
    return [values[h] for h in HEADERS]


def upload(client, name, data, project=None):
    """Upload through the page; returns the preview response (following the redirect)."""
    post = {"file": SimpleUploadedFile(name, data)}
    if project is not None:
        post["project"] = project.pk
    response = client.post(reverse("assets:device_import"), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(response["Location"])


def confirm(client, preview):
    context = preview.context
    return client.post(
        reverse("assets:device_import_preview"),
        {"token": context["token"], "fingerprint": context["plan"].fingerprint},
    )


def plan_for(user, name, data, project=None):
    parsed = importing.parse(name, data, contract_optional=project is not None)
    return importing.plan(parsed, user, default_project=project)


# ------------------------------------------------------------------------------------------------ happy paths


def test_xlsx_upload_preview_confirm_creates_every_row(client, dispatcher, project_a, camera):
    client.force_login(dispatcher)
    data = xlsx_bytes([row(project_a, "SN-001"), row(project_a, "SN-002", 安装日期=datetime(2024, 5, 1))])
    preview = upload(client, "设备清单.xlsx", data)
    assert preview.status_code == 200
    assert preview.context["counts"] == {"create": 2, "update": 0, "unchanged": 0, "error": 0}
    assert Device.objects.count() == 0  # the preview writes nothing

    response = confirm(client, preview)
    assert response.status_code == 302
    devices = {d.serial_number: d for d in Device.objects.all()}
    assert set(devices) == {"SN-001", "SN-002"}
    assert devices["SN-002"].installed_on == date(2024, 5, 1)
    assert devices["SN-001"].project == project_a and devices["SN-001"].category == camera
    message = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert any("2 devices created, 0 updated" in m for m in message)


def test_csv_with_bom_and_header_synonyms(dispatcher, project_a, camera):
    header = ["合同号", "设备名称", "类别", "品牌", "设备型号", "SN", "安装地点", "安装日期", "供应商", "备注", "负责人"]
    data = csv_bytes([[project_a.contract_number, "球机", "camera", "海康威视", "DS-2DE", "A1", "南门", "", "", "", "张三"]], header)
    assert data.startswith(b"\xef\xbb\xbf")
    plan = plan_for(dispatcher, "list.csv", data)
    assert plan.counts["create"] == 1 and not plan.has_errors
    assert plan.rows[0].category == camera  # matched by code
    assert plan.file.ignored_columns == ["负责人"]


def test_header_below_a_title_row_and_csv_without_bom(dispatcher, project_a, camera):
    plan = plan_for(dispatcher, "a.xlsx", xlsx_bytes([row(project_a, "X1")], title_row="银川天网工程设备清单"))
    assert plan.counts["create"] == 1 and plan.rows[0].line == 3
    plan = plan_for(dispatcher, "a.csv", csv_bytes([row(project_a, "X2")], encoding="utf-8"))
    assert plan.counts["create"] == 1


def test_gb18030_csv(dispatcher, project_a, camera):
    data = csv_bytes([row(project_a, "GB-1", 安装位置="银川市兴庆区解放西街")], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    plan = plan_for(dispatcher, "excel-saved.csv", data)
    assert not plan.has_errors
    assert plan.rows[0].values["location"] == "银川市兴庆区解放西街"
    assert plan.rows[0].values["name"] == "摄像机-GB-1"


def test_float_serials_become_their_digits(dispatcher, project_a, camera):
    data = xlsx_bytes([
        row(project_a, 1.2345678901e11),
        row(project_a, 123456.0),
        row(project_a, 42),
    ])
    plan = plan_for(dispatcher, "a.xlsx", data)
    assert [r.values["serial_number"] for r in plan.rows] == ["123456789010", "123456", "42"]
    assert not plan.has_errors


def test_serials_excel_already_mangled_are_row_errors(dispatcher, project_a, camera):
    data = xlsx_bytes([row(project_a, "1.23457E+11"), row(project_a, 1.2345678901234567e19), row(project_a, "99.0")])
    plan = plan_for(dispatcher, "a.xlsx", data)
    assert "scientific notation" in plan.rows[0].error_text
    assert "lost its last digits" in plan.rows[1].error_text
    assert plan.rows[2].values["serial_number"] == "99" and not plan.rows[2].errors


@pytest.mark.parametrize(
    "value",
    ["2024-03-15", "2024/3/15", "2024.3.15", "2024年3月15日", "2024年03月15日", "20240315", "2024/3/15 0:00",
     datetime(2024, 3, 15), date(2024, 3, 15)],
)
def test_dates_in_the_ways_integrators_write_them(dispatcher, project_a, camera, value):
    plan = plan_for(dispatcher, "a.xlsx", xlsx_bytes([row(project_a, "D1", 安装日期=value)]))
    assert plan.rows[0].values["installed_on"] == date(2024, 3, 15), plan.rows[0].errors


def test_unreadable_date_is_a_row_error(dispatcher, project_a, camera):
    plan = plan_for(dispatcher, "a.csv", csv_bytes([row(project_a, "D2", 安装日期="三月中旬"), row(project_a, "D3", 安装日期="2024-02-30")]))
    assert all("Cannot read the date" in r.error_text for r in plan.rows)


def test_empty_rows_are_skipped_and_line_numbers_kept(dispatcher, project_a, camera):
    data = csv_bytes([row(project_a, "E1"), [""] * 10, ["", " "], row(project_a, "E2")])
    plan = plan_for(dispatcher, "a.csv", data)
    assert [r.line for r in plan.rows] == [2, 5]


# ------------------------------------------------------------------------------------------------ errors mean nothing is written


def test_a_bad_row_means_nothing_is_written_and_the_preview_shows_it(client, dispatcher, project_a, camera):
    client.force_login(dispatcher)
    data = xlsx_bytes([row(project_a, "OK-1"), row(project_a, "", 设备名称="")])
    preview = upload(client, "a.xlsx", data)
    body = preview.content.decode()
    assert preview.context["counts"]["error"] == 1
    assert "序列号 is required." in body and "设备名称 is required." in body
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled', body)
    assert reverse("assets:device_import_rejected") in body

    response = confirm(client, preview)  # the service re-validates: a forged confirm writes nothing
    assert response.status_code == 200
    assert Device.objects.count() == 0
    messages = [str(m) for m in response.context["messages"]]
    assert any("Nothing was written" in m for m in messages)
    assert not any("created" in m for m in messages)


def test_another_customers_contract_number_is_unknown(dispatcher, customer_user_a, project_a, project_b, camera):
    plan = plan_for(dispatcher, "a.csv", csv_bytes([row(project_a, "P1"), row(project_b, "P2")]))
    assert plan.rows[0].action == "create"
    assert plan.rows[1].errors == [f"Unknown contract number {project_b.contract_number}."]
    assert project_b.name not in plan.rows[1].error_text
    with pytest.raises(importing.RowErrors):
        importing.commit(plan.file, dispatcher)
    assert Device.objects.count() == 0


def test_duplicate_key_in_the_file_is_an_error_on_the_later_row(dispatcher, project_a, camera):
    plan = plan_for(dispatcher, "a.csv", csv_bytes([
        row(project_a, "DUP"), row(project_a, "OTHER"), row(project_a, "DUP", 生产厂家="海康威视 "),
        row(project_a, "DUP", 生产厂家="大华"),  # same serial, another manufacturer: another device
    ]))
    assert [r.action for r in plan.rows] == ["create", "create", "error", "create"]
    assert plan.rows[2].errors == ["Same manufacturer and serial number as row 2."]


def test_key_registered_in_another_project_is_an_error(dispatcher, project_a, device_a, camera):
    other = ProjectFactory(customer=project_a.customer)
    plan = plan_for(dispatcher, "a.csv", csv_bytes([row(other, device_a.serial_number, 生产厂家=device_a.manufacturer.name)]))
    assert plan.rows[0].action == "error"
    assert project_a.contract_number in plan.rows[0].error_text


def test_key_registered_for_an_invisible_customer_does_not_name_its_project(dispatcher, project_a, device_b, camera):
    plan = plan_for(dispatcher, "a.csv", csv_bytes([row(project_a, device_b.serial_number, 生产厂家=device_b.manufacturer.name)]))
    assert plan.rows[0].errors == ["This manufacturer and serial number are already registered in another project."]
    assert device_b.project.contract_number not in plan.rows[0].error_text


def test_unknown_category_and_missing_columns(dispatcher, project_a, camera):
    plan = plan_for(dispatcher, "a.csv", csv_bytes([row(project_a, "C1", 设备类别="无人机")]))
    assert plan.rows[0].errors == ["Unknown device category 无人机."]
    with pytest.raises(importing.ImportFileError, match="Missing columns: 设备类别、型号、序列号"):
        importing.parse("a.csv", csv_bytes([["x"] * 3], header=["项目合同号", "设备名称", "生产厂家"]))


def test_file_limits(dispatcher, project_a, camera, monkeypatch):
    monkeypatch.setattr(importing.reading, "MAX_ROWS", 2)
    with pytest.raises(importing.ImportFileError, match="more than 2 device rows"):
        importing.parse("a.csv", csv_bytes([row(project_a, f"L{i}") for i in range(3)]))
    monkeypatch.setattr(importing.reading, "MAX_BYTES", 100)
    with pytest.raises(importing.ImportFileError, match="larger than"):
        importing.parse("a.csv", csv_bytes([row(project_a, "L1")]))
    with pytest.raises(importing.ImportFileError, match=r"\.xlsx"):
        importing.parse("old.xls", b"\xd0\xcf\x11\xe0")
    with pytest.raises(importing.ImportFileError, match="not a valid .xlsx"):
        importing.parse("fake.xlsx", b"not a zip")


def test_too_big_upload_is_a_form_error(client, dispatcher, monkeypatch):
    monkeypatch.setattr(importing.reading, "MAX_BYTES", 10)
    client.force_login(dispatcher)
    response = client.post(reverse("assets:device_import"), {"file": SimpleUploadedFile("a.csv", b"x" * 11)})
    assert response.status_code == 200
    assert "larger than" in response.content.decode()


# ------------------------------------------------------------------------------------------------ updates, new manufacturers


def test_update_of_an_existing_device_shows_what_changes(client, dispatcher, project_a, camera):
    device = DeviceFactory(project=project_a, category=camera, serial_number="UPD-1", name="旧名称", location="大门")
    client.force_login(dispatcher)
    data = csv_bytes([row(project_a, "UPD-1", 设备名称="新名称", 安装位置="", 型号=device.model, 生产厂家=device.manufacturer.name)])
    preview = upload(client, "a.csv", data)
    (planned,) = preview.context["plan"].rows
    assert planned.action == "update" and planned.device == device
    changed = {c.field: (c.old, c.new) for c in planned.changes}
    assert changed["name"] == ("旧名称", "新名称")
    assert "location" not in changed  # an empty cell keeps the current value
    assert "旧名称" in preview.content.decode()

    response = confirm(client, preview)
    device.refresh_from_db()
    assert (device.name, device.location, device.installed_on) == ("新名称", "大门", date(2024, 3, 15))
    assert Device.objects.count() == 1
    entry = LogEntry.objects.get_for_object(device).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == dispatcher and "name" in entry.changes
    assert any("0 devices created, 1 updated" in str(m) for m in client.get(response["Location"]).context["messages"])


def test_new_manufacturer_is_announced_and_created_on_commit(client, dispatcher, project_a, camera):
    client.force_login(dispatcher)
    preview = upload(client, "a.csv", csv_bytes([row(project_a, "NM-1", 生产厂家="宇视科技"), row(project_a, "NM-2", 生产厂家="宇视科技")]))
    assert preview.context["plan"].new_manufacturers == ["宇视科技"]
    assert "宇视科技" in preview.content.decode()
    assert not Manufacturer.objects.filter(name="宇视科技").exists()
    confirm(client, preview)
    maker = Manufacturer.objects.get(name="宇视科技")
    assert maker.devices.count() == 2
    device = maker.devices.first()
    assert LogEntry.objects.get_for_object(device).filter(action=LogEntry.Action.CREATE, actor=dispatcher).exists()


def test_audit_entries_name_the_importer_and_the_address_and_hold_no_internals(client, dispatcher, project_a, camera):
    device = DeviceFactory(project=project_a, category=camera, serial_number="AUD-1", name="旧名称")
    client.force_login(dispatcher)
    rows = [row(project_a, "AUD-1", 设备名称="新名称", 型号=device.model, 生产厂家=device.manufacturer.name, 安装位置="",
                安装日期="", 供应商=""),
            row(project_a, "AUD-2", 生产厂家=device.manufacturer.name)]
    preview = upload(client, "a.csv", csv_bytes(rows))
    assert preview.context["plan"].counts["update"] == 1
    response = client.post(reverse("assets:device_import_preview"), {
        "token": preview.context["token"], "fingerprint": preview.context["plan"].fingerprint,
    }, REMOTE_ADDR="10.20.30.40")
    assert response.status_code == 302

    updated = LogEntry.objects.get_for_object(device).filter(action=LogEntry.Action.UPDATE).get()
    assert (updated.actor, updated.actor_email, updated.remote_addr) == (dispatcher, dispatcher.email, "10.20.30.40")
    assert updated.changes == {"name": ["旧名称", "新名称"]}
    created = LogEntry.objects.get_for_object(Device.objects.get(serial_number="AUD-2")).get()
    assert (created.action, created.actor, created.remote_addr) == (LogEntry.Action.CREATE, dispatcher, "10.20.30.40")
    assert created.object_repr == str(Device.objects.get(serial_number="AUD-2"))
    own = {f.name for f in Device._meta.get_fields() if f.concrete} - {"id", "created_at", "updated_at", "label_code"}
    assert {"project", "manufacturer", "name", "serial_number"} <= set(created.changes) <= own
    assert created.changes["project"] == ["None", str(project_a.pk)]

    page = client.get(reverse("assets:device_detail", args=[device.pk])).content.decode()
    assert "Device name: 旧名称 → 新名称" in page


def test_api_import_records_the_forwarded_address(dispatcher, project_a, camera):
    client = api_as(dispatcher)
    response = api_upload(client, csv_bytes([row(project_a, "AUD-API")]), dry_run="false",
                          headers={"HTTP_X_FORWARDED_FOR": "203.0.113.9, 10.0.0.1", "HTTP_X_FORWARDED_PORT": "4431"})
    assert response.status_code == 200, response.json()
    entry = LogEntry.objects.get_for_object(Device.objects.get(serial_number="AUD-API")).get()
    assert (entry.actor, entry.remote_addr, entry.remote_port) == (dispatcher, "203.0.113.9", 4431)


def test_changed_registry_between_preview_and_confirm_writes_nothing(client, dispatcher, project_a, camera):
    device = DeviceFactory(project=project_a, category=camera, serial_number="RACE-1")
    client.force_login(dispatcher)
    preview = upload(client, "a.csv", csv_bytes([
        row(project_a, "RACE-1", 生产厂家=device.manufacturer.name, 设备名称="文件里的名称"), row(project_a, "RACE-2"),
    ]))
    device.name = "别人刚改的名称"
    device.save()
    response = confirm(client, preview)
    assert response.status_code == 200
    assert any("changed since the preview" in str(m) for m in response.context["messages"])
    assert not Device.objects.filter(serial_number="RACE-2").exists()
    device.refresh_from_db()
    assert device.name == "别人刚改的名称"


def test_import_from_a_project_page_needs_no_contract_column(client, dispatcher, project_a, camera):
    header = [h for h in HEADERS if h != "项目合同号"]
    data = csv_bytes([row(project_a, "PRJ-1")[1:]], header=header)
    client.force_login(dispatcher)
    page = client.get(reverse("assets:device_import") + f"?project={project_a.pk}")
    assert project_a.name in page.content.decode()
    preview = upload(client, "a.csv", data, project=project_a)
    assert preview.context["counts"]["create"] == 1
    response = confirm(client, preview)
    assert response["Location"].endswith(f"?project={project_a.pk}")
    assert Device.objects.get(serial_number="PRJ-1").project == project_a


def test_project_page_import_rejects_rows_naming_another_project(dispatcher, project_a, camera):
    other = ProjectFactory(customer=project_a.customer)
    plan = plan_for(dispatcher, "a.csv", csv_bytes([row(other, "X"), row(project_a, "Y"), row(project_a, "Z", 项目合同号="")]), project_a)
    assert [r.action for r in plan.rows] == ["error", "create", "create"]


def test_invisible_project_page_is_404(client, dispatcher, project_b):
    client.force_login(dispatcher)
    assert client.get(reverse("assets:device_import") + f"?project={project_b.pk}").status_code == 404


# ------------------------------------------------------------------------------------------------ the kept upload


def test_the_kept_upload_belongs_to_its_uploader(client, dispatcher, manager, project_a, camera):
    client.force_login(dispatcher)
    preview = upload(client, "a.csv", csv_bytes([row(project_a, "MINE-1")]))
    token = preview.context["token"]
    client.force_login(manager)  # same branch, same permissions, another person
    response = client.get(reverse("assets:device_import_preview"), {"token": token})
    assert "expired or is not yours" in response.content.decode()
    response = client.post(reverse("assets:device_import_preview"), {"token": token, "fingerprint": "x"})
    assert "expired or is not yours" in response.content.decode()
    assert Device.objects.count() == 0
    assert "expired or is not yours" in client.get(reverse("assets:device_import_rejected"), {"token": token}).content.decode()


def test_the_kept_upload_is_removed_after_commit(client, dispatcher, project_a, camera, settings):
    client.force_login(dispatcher)
    preview = upload(client, "a.csv", csv_bytes([row(project_a, "GONE-1")]))
    folder = settings.MEDIA_ROOT / importing.STASH_DIR / str(dispatcher.pk)
    assert len(list(folder.iterdir())) == 1
    confirm(client, preview)
    assert list(folder.iterdir()) == []
    assert "expired" in confirm(client, preview).content.decode()  # a second confirm cannot write twice
    assert Device.objects.count() == 1


def test_rejected_rows_file(client, dispatcher, project_a, project_b, camera):
    client.force_login(dispatcher)
    preview = upload(client, "a.csv", csv_bytes([row(project_a, "R1"), row(project_b, "R2"), row(project_a, "R3", 设备类别="?")]))
    response = client.get(reverse("assets:device_import_rejected"), {"token": preview.context["token"]})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == [*HEADERS, "Row", "Error"]
    assert [line[5] for line in lines[1:]] == ["R2", "R3"]
    assert lines[1][-2:] == ["3", f"Unknown contract number {project_b.contract_number}."]


# ------------------------------------------------------------------------------------------------ export and the round trip


def export_rows(client, name, query=None):
    response = client.get(reverse(name), query or {})
    assert response.status_code == 200
    return response


def test_streamed_csv_export_starts_with_a_bom_and_is_scoped(client, dispatcher, device_a, device_b):
    client.force_login(dispatcher)
    response = export_rows(client, "assets:device_export_csv")
    assert response.streaming
    assert re.search(r"filename\*?=.*\d{4}-\d{2}-\d{2}\.csv", response["Content-Disposition"])
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(HEADERS)
    assert device_a.serial_number in text and device_b.serial_number not in text


def test_export_honours_the_list_filters(client, dispatcher, project_a, camera):
    other = ProjectFactory(customer=project_a.customer)
    DeviceFactory(project=project_a, category=camera, serial_number="IN-1")
    DeviceFactory(project=other, category=camera, serial_number="OUT-1")
    client.force_login(dispatcher)
    text = b"".join(export_rows(client, "assets:device_export_csv", {"project": project_a.pk}).streaming_content).decode("utf-8-sig")
    assert "IN-1" in text and "OUT-1" not in text
    text = b"".join(export_rows(client, "assets:device_export_csv", {"q": "OUT"}).streaming_content).decode("utf-8-sig")
    assert "OUT-1" in text and "IN-1" not in text


def test_export_costs_a_fixed_number_of_queries(client, dispatcher, project_a, camera, django_assert_max_num_queries):
    for i in range(30):
        DeviceFactory(project=project_a, category=camera, serial_number=f"Q{i}")
    client.force_login(dispatcher)
    with django_assert_max_num_queries(8):
        b"".join(export_rows(client, "assets:device_export_csv").streaming_content)
    with django_assert_max_num_queries(9):
        b"".join(export_rows(client, "assets:device_export_xlsx").streaming_content)


@pytest.fixture
def registry(project_a, camera):
    """Devices with awkward values: numeric-looking serials, formula-looking text, dates and blanks."""
    hik = ManufacturerFactory(name="海康威视")
    dahua = ManufacturerFactory(name="大华")
    DeviceFactory(project=project_a, category=camera, manufacturer=hik, serial_number="123456789012345", installed_on=date(2024, 3, 15))
    DeviceFactory(project=project_a, category=camera, manufacturer=dahua, serial_number="00123", notes="=1+1 不是公式", supplier="-")
    DeviceFactory(project=project_a, category=camera, manufacturer=hik, serial_number="AB-9", location="", model="+86", notes="第一行\n第二行")
    return Device.objects.filter(project=project_a)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_export_then_import_is_unchanged_for_every_row(client, dispatcher, registry, fmt):
    client.force_login(dispatcher)
    response = export_rows(client, f"assets:device_export_{fmt}")
    data = b"".join(response.streaming_content)
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        assert [c.value for c in sheet[1]] == HEADERS
        serials = {sheet.cell(row=r, column=6).value for r in range(2, sheet.max_row + 1)}
        assert "123456789012345" in serials  # a text cell, not a number
        assert all(sheet.cell(row=r, column=10).data_type != "f" for r in range(2, sheet.max_row + 1))
    else:
        assert "'=1+1" in data.decode("utf-8-sig")  # neutralised for spreadsheets
    plan = plan_for(dispatcher, f"export.{fmt}", data)
    assert len(plan.rows) == registry.count() == 3
    assert [r.action for r in plan.rows] == ["unchanged"] * 3, [(r.errors, r.changes) for r in plan.rows]


def test_xlsx_export_dates_are_plain_dates(dispatcher, registry):
    handle = exporting.write_xlsx(registry.order_by("pk"))
    sheet = openpyxl.load_workbook(handle).active
    value = sheet.cell(row=2, column=8).value
    assert value == datetime(2024, 3, 15) and value.tzinfo is None


# ------------------------------------------------------------------------------------------------ permissions


def test_customer_user_may_export_but_not_import(client, customer_user_a, device_a, device_b):
    client.force_login(customer_user_a)
    assert client.get(reverse("assets:device_import")).status_code == 403
    assert client.post(reverse("assets:device_import"), {"file": SimpleUploadedFile("a.csv", b"x")}).status_code == 403
    assert client.post(reverse("assets:device_import_preview"), {"token": "x"}).status_code == 403
    text = b"".join(export_rows(client, "assets:device_export_csv").streaming_content).decode("utf-8-sig")
    assert device_a.serial_number in text and device_b.serial_number not in text
    page = client.get(reverse("assets:device_list")).content.decode()
    assert reverse("assets:device_export_csv") in page and reverse("assets:device_import") not in page


def test_engineer_cannot_import(client, engineer):
    client.force_login(engineer)  # may change devices but not add them
    assert client.get(reverse("assets:device_import")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    for name in ("assets:device_import", "assets:device_import_preview", "assets:device_export_csv", "assets:device_export_xlsx"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_device_list_offers_import_and_export_to_the_desk(client, dispatcher, project_a):
    client.force_login(dispatcher)
    page = client.get(reverse("assets:device_list"), {"project": project_a.pk}).content.decode()
    assert f"{reverse('assets:device_import')}?project={project_a.pk}" in page
    assert f"{reverse('assets:device_export_xlsx')}?project={project_a.pk}" in page


def test_template_download(client, dispatcher):
    client.force_login(dispatcher)
    response = client.get(reverse("assets:device_import_template"))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[1]] == HEADERS and sheet.max_row == 1


# ------------------------------------------------------------------------------------------------ API


def api_upload(client, data, name="a.csv", headers=None, **fields):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.post(reverse("device-import"), {"file": SimpleUploadedFile(name, data), **fields}, format="multipart",
                       **(headers or {}))


def test_api_dry_run_is_the_default_and_writes_nothing(dispatcher, project_a, camera):
    response = api_upload(api_as(dispatcher), csv_bytes([row(project_a, "API-1")]))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True and body["written"] is False
    assert body["counts"] == {"create": 1, "update": 0, "unchanged": 0, "error": 0}
    assert body["rows"][0]["action"] == "create" and body["rows"][0]["serial_number"] == "API-1"
    assert Device.objects.count() == 0


def test_api_commit(dispatcher, project_a, camera):
    response = api_upload(api_as(dispatcher), xlsx_bytes([row(project_a, 123456.0)]), name="a.xlsx", dry_run="false")
    assert response.status_code == 200, response.json()
    assert response.json()["written"] is True
    assert Device.objects.get().serial_number == "123456"


def test_api_commit_with_row_errors_is_400_and_writes_nothing(dispatcher, project_a, project_b, camera):
    response = api_upload(api_as(dispatcher), csv_bytes([row(project_a, "A"), row(project_b, "B")]), dry_run="false")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_rows"
    assert body["rows"][1]["errors"] == [f"Unknown contract number {project_b.contract_number}."]
    assert Device.objects.count() == 0


def test_api_default_project_must_be_visible(dispatcher, project_a, project_b, camera):
    header = [h for h in HEADERS if h != "项目合同号"]
    data = csv_bytes([row(project_a, "DP-1")[1:]], header=header)
    assert api_upload(api_as(dispatcher), data, project=project_b.pk).status_code == 400
    response = api_upload(api_as(dispatcher), data, project=project_a.pk, dry_run="false")
    assert response.status_code == 200 and Device.objects.get().project == project_a


def test_api_bad_file_is_400(dispatcher):
    response = api_upload(api_as(dispatcher), b"hello", name="a.txt")
    assert response.status_code == 400 and response.json()["code"] == "invalid_file"


def test_api_import_needs_both_permissions(customer_user_a, engineer, project_a, camera):
    data = csv_bytes([row(project_a, "NOPE")])
    assert api_upload(api_as(customer_user_a), data, dry_run="false").status_code == 403
    assert api_upload(api_as(engineer), data, dry_run="false").status_code == 403
    assert Device.objects.count() == 0


def test_api_describes_the_import_format(dispatcher):
    client = api_as(dispatcher)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("device-import")).json()
    assert [c["header"] for c in body["columns"]] == HEADERS
    assert body["max_rows"] == importing.MAX_ROWS


# ------------------------------------------------------------------------------------------------ cost


def test_plan_costs_a_fixed_number_of_queries(dispatcher, project_a, camera, django_assert_max_num_queries):
    for i in range(20):
        DeviceFactory(project=project_a, category=camera, serial_number=f"EX{i}")
    rows = [row(project_a, f"EX{i}") for i in range(20)] + [row(project_a, f"NEW{i}") for i in range(40)]
    parsed = importing.parse("a.csv", csv_bytes(rows))
    with django_assert_max_num_queries(8):
        plan = importing.plan(parsed, dispatcher)
    assert plan.counts["create"] == 40 and plan.counts["update"] == 20


# ------------------------------------------------------------------------------------------------ the UI speaks Chinese


def test_row_errors_and_messages_are_chinese_by_default(dispatcher, project_a, project_b, camera):
    client = Client()  # no language cookie: the UI's default, Simplified Chinese
    client.force_login(dispatcher)
    preview = upload(client, "a.csv", csv_bytes([row(project_a, "ZH-1"), row(project_b, "ZH-2", 安装日期="三月")]))
    errors = preview.context["plan"].rows[1].errors
    assert len(errors) == 2
    assert all(re.search(r"[\u4e00-\u9fff]", e.replace("三月", "")) for e in errors), errors
    assert not any(e.startswith(("Unknown", "Cannot")) for e in errors)
