"""Issue 22 §3, "Replacement keeps history": a replaced device is retired in the replace step's transaction. It leaves
the device lists (page, API, exports), the pickers (request forms and API, contracts), the label sheet and the counts
of installed units; a filter shows it, its own page still opens with a banner naming the device that replaced it, and
what already names it (requests, repairs, coverage) keeps naming it."""

import csv
import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse

from aftersales.assets import selectors, services as asset_services
from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.contracts.coverage import coverage_on
from aftersales.contracts.forms import ContractForm
from aftersales.intake.labels.codes import device_for_code
from aftersales.intake.models import DeviceAlias
from aftersales.reports.dashboard import summary
from aftersales.repairs import services as repairs
from aftersales.repairs.models import DeviceReplacement
from aftersales.service.models import ServiceRequest

from ..conftest import api_as
from ..factories import DeviceFactory, current_version

LIST_QUERIES = 7  # session, user, permissions, count, page (project, category, manufacturer joined)…
PAGE_QUERIES = 14  # the device with its replacement joined, repairs, inspections, coverage, audit: as one in service
MIGRATION = importlib.import_module("aftersales.assets.migrations.0002_retired_devices")


def replace(device, by, serial="CAM-NEW-0001") -> Device:
    """Replace `device` in a repair case, through the verbs; the unit installed in its place."""
    case = repairs.open_case(by=by, device=device, fault="摄像机进水,主板烧毁")
    case = repairs.replace(case=case, by=by, version=current_version(case), serial=serial, source="customer",
                           from_where="业主备件库")
    device.refresh_from_db()
    return case.replaced_by


@pytest.fixture
def replaced(device_a, engineer):
    """device_a, replaced: (old, new)."""
    new = replace(device_a, engineer)
    return device_a, new


def listed(response) -> set[int]:
    return {device.pk for device in response.context["object_list"]}


# ------------------------------------------------------------------------------------------ the replace step

def test_replacing_a_device_retires_it_in_the_same_step_in_favour_of_the_new_one(replaced):
    old, new = replaced
    link = DeviceReplacement.objects.get(old=old)
    assert (old.retired_at, old.replaced_by) == (link.at, new)
    assert not old.in_service and new.in_service and new.retired_at is None


def test_a_refused_replacement_retires_nothing(device_a, device_b, engineer):
    case = repairs.open_case(by=engineer, device=device_a, fault="无图像")
    with pytest.raises(repairs.Conflict):
        repairs.replace(case=case, by=engineer, version=current_version(case), serial=device_b.serial_number,
                        manufacturer=device_b.manufacturer, source="customer")
    device_a.refresh_from_db()
    assert (device_a.retired_at, device_a.replaced_by) == (None, None)


def test_a_retired_device_is_not_retired_twice(replaced):
    old, new = replaced
    with pytest.raises(asset_services.AlreadyRetired):
        asset_services.retire(old, at=old.retired_at, replaced_by=new)


def test_a_unit_replaced_twice_leads_to_the_second_replacement(device_a, engineer):
    case = repairs.open_case(by=engineer, device=device_a, fault="无图像")
    case = repairs.replace(case=case, by=engineer, version=current_version(case), serial="DOA-0001", source="customer")
    case = repairs.rediagnose(case=case, by=engineer, version=current_version(case), note="新设备到货即坏")
    case = repairs.replace(case=case, by=engineer, version=current_version(case), serial="GOOD-0001", source="customer")
    first, second = Device.objects.get(serial_number="DOA-0001"), Device.objects.get(serial_number="GOOD-0001")
    device_a.refresh_from_db()
    assert (device_a.replaced_by, first.replaced_by, second.retired_at) == (first, second, None)
    assert selectors.in_service_successor(device_a) == second
    assert "GOOD-0001" in selectors.retired_message(device_a)


# ------------------------------------------------------------------------------------------ the migration's data step

def test_the_migration_retires_the_devices_replaced_before_it_and_moves_their_aliases(replaced, customer_a):
    old, new = replaced
    alias = DeviceAlias.objects.create(customer=customer_a, external_id="zbx-10086", device=old)
    Device.objects.filter(pk=old.pk).update(retired_at=None, replaced_by=None)  # as before the release
    MIGRATION.retire_replaced_devices(apps, None)
    old.refresh_from_db()
    alias.refresh_from_db()
    assert (old.retired_at, old.replaced_by, alias.device) == (DeviceReplacement.objects.get(old=old).at, new, new)
    MIGRATION.retire_replaced_devices(apps, None)  # run again: nothing changes
    assert Device.objects.get(pk=old.pk).retired_at == old.retired_at


# ------------------------------------------------------------------------------------------ the device list

def test_the_device_list_shows_devices_in_service_and_the_filter_the_retired_or_all(client, dispatcher, replaced):
    old, new = replaced
    client.force_login(dispatcher)
    url = reverse("assets:device_list")
    assert listed(client.get(url)) == {new.pk}
    assert listed(client.get(url, {"status": "in_service"})) == {new.pk}
    retired = client.get(url, {"status": "retired"})
    assert listed(retired) == {old.pk} and "device-retired" in retired.content.decode()
    assert listed(client.get(url, {"status": "all"})) == {old.pk, new.pk}
    assert listed(client.get(url, {"q": old.serial_number})) == set()  # a search finds devices in service
    assert listed(client.get(url, {"q": old.serial_number, "status": "all"})) == {old.pk}
    assert client.get(url, {"status": "scrapped"}).status_code == 200  # a bad choice: a form error, not a 500


def test_the_export_follows_the_list(client, dispatcher, replaced):
    old, new = replaced
    client.force_login(dispatcher)

    def serials(**params):
        exported = b"".join(client.get(reverse("assets:device_export_csv"), params).streaming_content)
        return [row[5] for row in csv.reader(io.StringIO(exported.decode("utf-8-sig")))][1:]  # column 序列号

    assert serials() == [new.serial_number]
    assert serials(status="retired") == [old.serial_number]


def test_the_api_lists_devices_in_service_and_still_answers_for_a_retired_one(dispatcher, replaced):
    old, new = replaced
    api = api_as(dispatcher)
    assert [d["id"] for d in api.get("/api/devices/").json()["results"]] == [new.pk]
    assert [d["id"] for d in api.get("/api/devices/", {"status": "retired"}).json()["results"]] == [old.pk]
    assert {d["id"] for d in api.get("/api/devices/", {"status": "all"}).json()["results"]} == {old.pk, new.pk}
    bad = api.get("/api/devices/", {"status": "scrapped"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]
    one = api.get(f"/api/devices/{old.pk}/")
    assert one.status_code == 200
    assert (one.json()["replaced_by"], one.json()["retired_at"] is not None) == (new.pk, True)
    assert api.get(f"/api/devices/{new.pk}/").json()["retired_at"] is None


def test_retired_is_not_writable_through_the_api_or_the_form(dispatcher, device_a):
    api = api_as(dispatcher)
    answer = api.patch(f"/api/devices/{device_a.pk}/", {"retired_at": "2026-01-01T00:00:00+08:00", "notes": "x"},
                       format="json")
    assert answer.status_code == 200
    device_a.refresh_from_db()
    assert device_a.retired_at is None and device_a.notes == "x"
    from aftersales.assets.forms import DeviceForm
    assert "retired_at" not in DeviceForm.base_fields and "replaced_by" not in DeviceForm.base_fields


# ------------------------------------------------------------------------------------------ the device page

def test_the_retired_devices_page_opens_with_a_banner_naming_its_replacement(client, dispatcher, replaced):
    old, new = replaced
    client.force_login(dispatcher)
    page = client.get(old.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "device-retired" in html and new.get_absolute_url() in html and new.serial_number in html
    assert old.retired_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d") in html
    assert "device-retired" not in client.get(new.get_absolute_url()).content.decode()


def test_a_request_that_names_the_retired_device_keeps_naming_it(client, dispatcher, device_a, engineer, project_a):
    api = api_as(dispatcher)
    created = api.post("/api/requests/", {"project": project_a.pk, "priority": "general", "title": "无图像",
                                          "description": "大门摄像机无图像", "devices": [device_a.pk]}, format="json")
    assert created.status_code == 201, created.content
    replace(device_a, engineer)
    request = ServiceRequest.objects.get(pk=created.json()["id"])
    assert list(request.devices.all()) == [device_a]
    assert api.get(f"/api/requests/{request.pk}/").json()["devices"] == [device_a.pk]


# ------------------------------------------------------------------------------------------ pickers

def test_the_request_api_refuses_a_retired_device_with_a_400_naming_the_field_and_the_replacement(
        dispatcher, project_a, replaced):
    old, new = replaced
    before = ServiceRequest.objects.count()
    answer = api_as(dispatcher).post("/api/requests/", {
        "project": project_a.pk, "priority": "general", "title": "无图像", "description": "大门摄像机无图像",
        "devices": [new.pk, old.pk]}, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid" and new.serial_number in body["detail"]
    assert list(body["fields"]) == ["devices"] and new.serial_number in body["fields"]["devices"][0]
    assert ServiceRequest.objects.count() == before


def test_the_desk_form_refuses_a_retired_device_and_does_not_offer_it(client, dispatcher, project_a, replaced):
    old, new = replaced
    client.force_login(dispatcher)
    answer = client.post(reverse("service:intake"), {
        "project": project_a.pk, "priority": "general", "channel": "phone", "reporter_name": "王工",
        "reporter_phone": "13900000000", "title": "无图像", "description": "大门摄像机无图像", "devices": [old.pk]})
    assert answer.status_code in (200, 422) and not ServiceRequest.objects.exists()
    errors = answer.context["form"].errors["devices"]
    assert new.serial_number in errors[0]
    offered = client.get(reverse("service:device_choices"), {"project": project_a.pk})
    assert [d.pk for d in offered.context["devices"]] == [new.pk]
    offered = client.get(reverse("service:device_choices"), {"project": project_a.pk, "device_q": old.serial_number,
                                                             "devices": [old.pk]})
    assert old.pk not in [d.pk for d in offered.context["devices"]]


def test_the_contract_form_refuses_to_add_a_retired_device_but_keeps_one_listed(dispatcher, project_a, replaced):
    old, new = replaced
    values = {"number": "WB-2026-9", "project": project_a.pk, "starts_on": "2026-01-01", "ends_on": "2026-12-31",
              "device_serials": old.serial_number, "renewal": "express", "notice_days": 30, "replacement": "carry_over",
              "covers_parts": True, "covers_labour": True, "covers_onsite": True}
    form = ContractForm(values, user=dispatcher)
    assert not form.is_valid()
    assert new.serial_number in form.errors["device_serials"][0]
    form = ContractForm({**values, "device_serials": new.serial_number}, user=dispatcher)
    assert form.is_valid(), form.errors


# ------------------------------------------------------------------------------------------ labels and counts

def test_the_label_sheet_leaves_the_retired_device_out_and_its_code_opens_nothing(client, dispatcher, replaced):
    old, new = replaced
    client.force_login(dispatcher)
    sheet = client.get(reverse("intake:label_sheet", args=[old.project_id]))
    html = sheet.content.decode()
    assert sheet.status_code == 200 and sheet.context["count"] == 1
    assert new.serial_number in html and old.serial_number not in html
    assert device_for_code(old.label_code) is None and device_for_code(new.label_code) == new
    assert client.get(reverse("intake:label_scan", args=[old.label_code])).status_code == 404


def test_counts_of_installed_units_leave_retired_devices_out(dispatcher, replaced, project_a):
    old, new = replaced
    DeviceFactory(project=project_a)
    assert summary(dispatcher)["device_count"] == 2
    counts = selectors.project_device_summary(project_a)
    assert (counts["total"], counts["retired"]) == (2, 1)


def test_the_project_page_links_its_retired_devices(client, dispatcher, replaced, project_a):
    client.force_login(dispatcher)
    html = client.get(project_a.get_absolute_url()).content.decode()
    assert f"?project={project_a.pk}&status=retired" in html


def test_the_warranty_expiring_list_leaves_retired_devices_out(client, dispatcher, device_a, engineer):
    soon = clock.today() + timedelta(days=10)
    device_a.warranty_end_override = soon
    device_a.save()
    new = replace(device_a, engineer)  # the warranty is carried over to the new unit
    client.force_login(dispatcher)
    shown = {d.pk for d in client.get(reverse("assets:warranty_expiring")).context["object_list"]}
    assert shown == {new.pk}


def test_coverage_of_the_retired_device_on_a_past_day_still_answers(device_a, engineer):
    device_a.warranty_end_override = clock.today() + timedelta(days=400)
    device_a.save()
    replace(device_a, engineer)
    assert coverage_on(device_a, clock.today() - timedelta(days=1)) is not None


# ------------------------------------------------------------------------------------------ cost

@pytest.mark.parametrize("n", [3, 30])
def test_the_device_list_and_a_retired_devices_page_cost_a_fixed_number_of_queries(
        n, client, dispatcher, project_a, engineer, django_assert_max_num_queries):
    devices = DeviceFactory.create_batch(n, project=project_a)
    old = devices[0]
    replace(old, engineer)
    client.force_login(dispatcher)
    for params in ({}, {"status": "retired"}, {"status": "all"}):
        client.get(reverse("assets:device_list"), params)  # the worker's caches warm, as in production
        with django_assert_max_num_queries(LIST_QUERIES):
            assert client.get(reverse("assets:device_list"), params).status_code == 200
    client.get(old.get_absolute_url())
    with django_assert_max_num_queries(PAGE_QUERIES):
        assert client.get(old.get_absolute_url()).status_code == 200


# ------------------------------------------------------------------------------------------ the demo

def test_the_demo_holds_retired_devices_each_named_by_its_replacement(db):
    from aftersales.assets.filters import DeviceFilter
    from aftersales.demo import data

    data.load()
    links = list(DeviceReplacement.objects.select_related("old", "new"))
    assert links and all((link.old.retired_at, link.old.replaced_by) == (link.at, link.new) for link in links)
    assert all(link.new.in_service for link in links)
    listed_by_default = set(DeviceFilter({}, queryset=Device.objects.all()).qs.values_list("pk", flat=True))
    assert not listed_by_default & {link.old_id for link in links}
