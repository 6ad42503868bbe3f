"""Issue 20 §3: one plausibility rule for the dates people (or device clocks) enter — 2000-01-01 to today + 10 years
(core/plausible.py). A form shows a field error, the API answers 400 naming the field, nothing is half-written; an
alarm event with a broken clock is accepted with the receipt time (intake/alarms/api_events.py says why)."""

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from aftersales.assets import importing
from aftersales.assets.forms import DeviceAdminForm, DeviceForm
from aftersales.assets.models import Device
from aftersales.core import plausible
from aftersales.customers.forms import MilestoneForm, ProjectForm
from aftersales.customers.models import Milestone, Project
from aftersales.intake.alarms import keys
from aftersales.intake.models import AlarmEvent
from aftersales.service import verbs
from aftersales.service.admin import CalendarDayForm, HolidayYearForm, ServiceRequestAdminForm
from aftersales.service.forms import ReplyForm, RequestListFilter
from aftersales.service.models import CalendarDay, Priority, ServiceRequest, State

from ..conftest import api_as
from ..factories import DeviceCategoryFactory, DeviceFactory, ManufacturerFactory, MilestoneFactory, current_version

ABSURD_DAYS = ["0001-01-01", "1970-01-01", "1999-12-31", "9999-12-31"]


def field_errors(body: dict) -> dict:
    """The field messages of an API error, before and after the error body became {code, detail, fields}."""
    return body.get("fields", body)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# ------------------------------------------------------------------------------------------ the rule and its fields

def test_the_rule_is_2000_to_ten_years_ahead(frozen_clock):
    assert plausible.is_plausible(date(2000, 1, 1)) and plausible.is_plausible(date(2036, 11, 26))
    assert not plausible.is_plausible(date(1999, 12, 31)) and not plausible.is_plausible(date(2036, 11, 27))
    assert plausible.plausible_year(2036) and not plausible.plausible_year(2037) and not plausible.plausible_year(1999)


@pytest.mark.parametrize("value", ABSURD_DAYS)
def test_the_form_and_serializer_fields_refuse_an_absurd_date(frozen_clock, value):
    form_field = plausible.PlausibleDateField(required=False)
    with pytest.raises(Exception) as refused:
        form_field.clean(value)
    assert "2000-01-01" in str(refused.value)
    serializer_field = plausible.PlausibleDateSerializerField(required=False, allow_null=True)
    with pytest.raises(Exception) as refused:
        serializer_field.run_validation(value)
    assert "2000-01-01" in str(refused.value)
    assert plausible.PlausibleDateField(required=False).clean("2026-11-26") == date(2026, 11, 26)
    assert plausible.PlausibleDateSerializerField(allow_null=True).run_validation(None) is None


# ------------------------------------------------------------------------------------------ appointments (service requests)

@pytest.fixture
def opened(frozen_clock, dispatcher, project_a):
    return verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                              title="硬盘录像机离线", description="三号机房 NVR 无法访问")


@pytest.mark.parametrize("value", ["0001-01-01T09:00", "1970-01-01T08:00", "9999-12-31T23:59"])
def test_reply_form_shows_a_field_error_for_an_absurd_appointment(frozen_clock, value):
    form = ReplyForm({"version": 1, "mode": "onsite", "plan": "上门检查", "scheduled_for": value})
    assert not form.is_valid() and "scheduled_for" in form.errors
    good = ReplyForm({"version": 1, "mode": "onsite", "plan": "上门检查", "scheduled_for": "2026-11-27T09:00"})
    assert good.is_valid(), good.errors


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59-08:00",
                                   "9999-12-31T23:59:59"])
def test_reply_api_refuses_an_absurd_appointment_and_changes_nothing(opened, dispatcher, value):
    desk = api_as(dispatcher)
    version = current_version(opened)
    answer = desk.post(f"/api/requests/{opened.pk}/reply/",
                       {"mode": "onsite", "plan": "上门检查", "scheduled_for": value, "version": version}, format="json")
    assert answer.status_code == 400, answer.content
    assert "scheduled_for" in field_errors(answer.json())
    opened.refresh_from_db()
    assert (opened.state, opened.version, opened.scheduled_for) == (State.NEW, version, None)
    good = desk.post(f"/api/requests/{opened.pk}/reply/", {"mode": "onsite", "plan": "上门检查", "version": version,
                                                          "scheduled_for": "2026-11-27T09:00:00+08:00"}, format="json")
    assert good.status_code == 200, good.json()


def test_the_reply_page_shows_the_error_and_writes_nothing(client, opened, dispatcher):
    client.force_login(dispatcher)
    url = reverse("service:reply", args=[opened.pk])
    response = client.post(url, {"version": current_version(opened), "mode": "onsite", "plan": "上门检查",
                                 "scheduled_for": "9999-12-31T23:59"})
    assert response.status_code in (200, 422) and "2000-01-01" in response.content.decode()
    assert ServiceRequest.objects.get(pk=opened.pk).state == State.NEW


def test_the_admin_form_of_a_request_refuses_an_absurd_appointment(frozen_clock):
    form = ServiceRequestAdminForm()
    form.cleaned_data = {"scheduled_for": timezone.make_aware(datetime(1970, 1, 1))}
    with pytest.raises(Exception, match="2000-01-01"):
        form.clean_scheduled_for()


def test_the_request_list_page_filters_use_the_same_rule(frozen_clock, dispatcher, rf):
    request = rf.get("/")
    request.user = dispatcher
    assert not RequestListFilter({"created_from": "1999-12-31"}, request=request,
                                 queryset=ServiceRequest.objects.all()).is_valid()
    assert RequestListFilter({"created_from": "2026-11-01", "created_to": "2026-11-26"}, request=request,
                             queryset=ServiceRequest.objects.all()).is_valid()


# ------------------------------------------------------------------------------------------ devices: install and warranty dates

DEVICE_DATES = ["installed_on", "warranty_start_override", "manufacturer_warranty_end_override", "warranty_end_override"]


@pytest.fixture
def device(frozen_clock, project_a):
    return DeviceFactory(project=project_a, installed_on=date(2024, 3, 15))


def device_data(device, **changes):
    data = {"project": device.project_id, "category": device.category_id, "manufacturer": device.manufacturer_id,
            "name": device.name, "model": device.model, "serial_number": device.serial_number,
            "location": device.location, "installed_on": "2024-03-15", "supplier": "", "notes": ""}
    return {**data, **changes}


@pytest.mark.parametrize("name", DEVICE_DATES)
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
def test_device_forms_show_a_field_error(device, admin_user, name, value):
    form = DeviceForm(device_data(device, **{name: value}), instance=device, user=admin_user)
    assert not form.is_valid() and list(form.errors) == [name]
    admin_form = DeviceAdminForm(device_data(device, **{name: value}), instance=device)
    assert not admin_form.is_valid() and name in admin_form.errors


def test_the_device_page_shows_the_error_and_keeps_the_device(client, device, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("assets:device_update", args=[device.pk]),
                           device_data(device, installed_on="0001-01-01", name="改名"))
    assert response.status_code == 200 and "2000-01-01" in response.content.decode()
    device.refresh_from_db()
    assert (device.name, device.installed_on) != ("改名", date(1, 1, 1)) and device.installed_on == date(2024, 3, 15)


@pytest.mark.parametrize("name", DEVICE_DATES)
def test_device_api_answers_400_with_the_field_and_writes_nothing(device, admin_user, name):
    api = api_as(admin_user)
    before = Device.objects.count()
    created = api.post("/api/devices/", {**device_data(device, serial_number="NEW-1"), name: "0001-01-01"}, format="json")
    assert created.status_code == 400 and name in field_errors(created.json())
    changed = api.patch(f"/api/devices/{device.pk}/", {name: "9999-12-31", "name": "改名"}, format="json")
    assert changed.status_code == 400 and name in field_errors(changed.json())
    device.refresh_from_db()
    assert Device.objects.count() == before and device.name != "改名"
    assert api.patch(f"/api/devices/{device.pk}/", {name: "2026-01-01"}, format="json").status_code == 200


@pytest.mark.parametrize("value", ["0001-01-01", "1970-01-01", "9999-12-31", "2099/1/1"])
def test_device_import_refuses_an_absurd_install_date_as_a_row_error(frozen_clock, admin_user, project_a, value):
    DeviceCategoryFactory(name="摄像机", code="camera")
    ManufacturerFactory(name="海康威视")
    header = "项目合同号,设备名称,设备类别,生产厂家,型号,序列号,安装日期"
    good = f"{project_a.contract_number},摄像机-1,摄像机,海康威视,DS-2CD,IMP-1,2024-03-15"
    bad = f"{project_a.contract_number},摄像机-2,摄像机,海康威视,DS-2CD,IMP-2,{value}"
    parsed = importing.parse("devices.csv", "\n".join([header, good, bad]).encode())
    plan = importing.plan(parsed, admin_user)
    assert plan.rows[0].errors == []
    assert len(plan.rows[1].errors) == 1 and "2000-01-01" in plan.rows[1].errors[0] and "安装日期" in plan.rows[1].errors[0]
    with pytest.raises(importing.RowErrors):
        importing.commit(parsed, admin_user)
    assert not Device.objects.filter(serial_number__in=["IMP-1", "IMP-2"]).exists()


# ------------------------------------------------------------------------------------------ customers: service periods, milestones

def project_data(project, **changes):
    data = {"customer": project.customer_id, "branch": project.branch_id, "name": project.name,
            "contract_number": project.contract_number, "site_address": "", "latitude": "", "longitude": "",
            "contract_signed_on": "", "service_starts_on": "2025-01-01", "service_ends_on": "2027-12-31",
            "manufacturer_warranty_months": 24, "integrator_warranty_months": 12}
    return {**data, **changes}


@pytest.mark.parametrize("name", ["contract_signed_on", "service_starts_on", "service_ends_on"])
def test_project_form_and_api_refuse_an_absurd_service_period(frozen_clock, project_a, admin_user, name):
    form = ProjectForm(project_data(project_a, **{name: "9999-12-31"}), instance=project_a, user=admin_user)
    assert not form.is_valid() and name in form.errors
    answer = api_as(admin_user).patch(f"/api/projects/{project_a.pk}/", {name: "0001-01-01", "name": "改名"}, format="json")
    assert answer.status_code == 400 and name in field_errors(answer.json())
    project_a.refresh_from_db()
    assert project_a.name != "改名" and getattr(project_a, name) is None


def test_milestone_form_and_api_refuse_absurd_dates(frozen_clock, project_a, admin_user):
    form = MilestoneForm({"kind": "acceptance", "contract_deadline": "0001-01-01", "actual_date": "9999-12-31"},
                         user=admin_user)
    assert not form.is_valid() and {"contract_deadline", "actual_date"} <= set(form.errors)
    api = api_as(admin_user)
    answer = api.post("/api/milestones/", {"project": project_a.pk, "kind": "acceptance",
                                           "contract_deadline": "0001-01-01"}, format="json")
    assert answer.status_code == 400 and "contract_deadline" in field_errors(answer.json())
    milestone = MilestoneFactory(project=project_a)
    answer = api.patch(f"/api/milestones/{milestone.pk}/", {"actual_date": "9999-12-31"}, format="json")
    assert answer.status_code == 400 and "actual_date" in field_errors(answer.json())
    assert Milestone.objects.get(pk=milestone.pk).actual_date is None
    assert not Project.objects.get(pk=project_a.pk).accepted_on


# ------------------------------------------------------------------------------------------ calendar days (admin)

@pytest.mark.parametrize("value", ABSURD_DAYS)
def test_calendar_day_form_refuses_an_absurd_day(db, frozen_clock, value):
    form = CalendarDayForm({"day": value, "kind": "off", "name": "国庆节"})
    assert not form.is_valid() and "day" in form.errors
    assert CalendarDayForm({"day": "2027-10-01", "kind": "off", "name": "国庆节"}).is_valid()


def test_the_calendar_admin_shows_the_error_and_writes_nothing(client, frozen_clock, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:service_calendarday_add"), {"day": "9999-12-31", "kind": "off", "name": "x"})
    assert response.status_code == 200 and "2000-01-01" in response.content.decode()
    assert not CalendarDay.objects.filter(name="x").exists()


def test_holiday_year_form_refuses_an_absurd_year(db, frozen_clock):
    assert not HolidayYearForm({"year": 9999, "source": ""}).is_valid()
    assert not HolidayYearForm({"year": 1999, "source": ""}).is_valid()
    assert HolidayYearForm({"year": 2027, "source": "国务院办公厅"}).is_valid()


# ------------------------------------------------------------------------------------------ alarm events (device clocks)

@pytest.fixture
def alarm_key(customer_a, admin_user):
    _key, plain = keys.create_key(by=admin_user, customer=customer_a, name="Zabbix")
    return plain


@pytest.mark.parametrize("value", ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00",
                                   "1999-12-31T23:59:59+08:00"])
def test_an_alarm_with_a_broken_clock_is_accepted_with_the_receipt_time_and_the_original_kept(
        frozen_clock, alarm_key, project_a, value):
    nvr = DeviceFactory(project=project_a, serial_number="NVR-CLOCK")
    body = {"device": {"serial": "NVR-CLOCK"}, "type": "offline", "state": "raised", "time": value}
    answer = APIClient().post("/api/alarms/events/", body, format="json", HTTP_AUTHORIZATION=f"Bearer {alarm_key}")
    assert answer.status_code == 201, answer.content
    assert value in answer.json()["detail"]
    stored = AlarmEvent.objects.get(pk=answer.json()["event"])
    assert stored.occurred_at == stored.received_at == timezone.now()  # the receipt time decides the order
    assert stored.payload["time"] == value and stored.device == nvr  # the original, as the device sent it
    # A later clear with a good time recovers it: the broken time did not put the raise out of order.
    clear = {**body, "state": "cleared", "time": (timezone.now() + timedelta(minutes=1)).isoformat()}
    frozen_clock.shift(timedelta(minutes=2))
    cleared = APIClient().post("/api/alarms/events/", clear, format="json", HTTP_AUTHORIZATION=f"Bearer {alarm_key}")
    assert cleared.status_code == 200 and cleared.json()["outcome"] in ("recovered", "closed"), cleared.json()


def test_an_alarm_batch_with_a_broken_clock_still_validates_the_other_fields(frozen_clock, alarm_key, project_a):
    DeviceFactory(project=project_a, serial_number="NVR-CLOCK")
    bad = {"device": {"serial": "NVR-CLOCK"}, "type": "offline", "state": "resolved", "time": "1970-01-01T00:00:00Z"}
    answer = APIClient().post("/api/alarms/events/", [bad], format="json", HTTP_AUTHORIZATION=f"Bearer {alarm_key}")
    assert answer.status_code == 400 and "state" in answer.json()["errors"][0]
    assert AlarmEvent.objects.count() == 0


def test_shift_validity_dates_are_plausible(admin_user, branch_a, engineer):
    from ..conftest import api_as

    api = api_as(admin_user)
    body = {"branch": branch_a.pk, "user": engineer.pk, "specialty": "computing", "weekday": 0,
            "start_time": "08:00", "end_time": "20:00", "valid_from": "0001-01-01"}
    answer = api.post("/api/shifts/", body, format="json")
    assert answer.status_code == 400 and "valid_from" in answer.json().get("fields", answer.json())
    assert api.post("/api/shifts/", {**body, "valid_from": "2026-12-01"}, format="json").status_code == 201
