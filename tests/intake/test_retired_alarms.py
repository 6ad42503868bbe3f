"""Issue 22 §3: monitoring follows the unit in service. The replace step moves the old device's aliases to the new
device in its transaction; an alarm after the replacement — by the alias or by the old unit's serial number — lands
on the new device. An alarm open on the old device stays there as history; the first alarm after the replacement
opens (or joins) a request of the new device."""

import pytest

from aftersales.assets.models import Device
from aftersales.intake.models import ActiveAlarm, AlarmEvent, AlarmOutcome, DeviceAlias
from aftersales.repairs import services as repairs
from aftersales.service.models import ServiceRequest

from ..conftest import api_as
from ..factories import current_version
from .test_alarms import at, camera, camera_category, event, key_a, nvr_category, post, rules  # noqa: F401 fixtures


def replace(device, by, serial="CAM-NEW-0007") -> Device:
    case = repairs.open_case(by=by, device=device, fault="摄像机离线")
    case = repairs.replace(case=case, by=by, version=current_version(case), serial=serial, source="customer")
    device.refresh_from_db()
    return case.replaced_by


@pytest.fixture
def alias(customer_a, camera):
    return DeviceAlias.objects.create(customer=customer_a, external_id="zbx-host-7", device=camera)


@pytest.mark.django_db
def test_the_replace_step_moves_the_aliases_to_the_new_device(camera, alias, engineer):
    new = replace(camera, engineer)
    alias.refresh_from_db()
    assert alias.device == new
    assert not DeviceAlias.objects.filter(device=camera).exists()


@pytest.mark.django_db
def test_an_alarm_after_the_replacement_lands_on_the_new_device_and_the_old_request_stays_history(
        key_a, camera, alias, engineer):
    before = post(key_a, event(external_id="zbx-host-7", time=at(0)))
    assert before.status_code == 201 and before.json()["outcome"] == "opened"
    old_request = ServiceRequest.objects.get(pk=before.json()["request"]["id"])
    new = replace(camera, engineer)
    # The decision: the old device's open alarm and request stay as they were (its history)...
    assert ActiveAlarm.objects.get(device=camera, alarm_type="offline").request == old_request
    assert list(old_request.devices.all()) == [camera]
    # ...and the next alarm is the new device's: a request of its own.
    after = post(key_a, event(external_id="zbx-host-7", time=at(10)))
    assert after.status_code == 201 and after.json()["outcome"] == "opened"
    new_request = ServiceRequest.objects.get(pk=after.json()["request"]["id"])
    assert new_request != old_request and list(new_request.devices.all()) == [new]
    assert AlarmEvent.objects.get(pk=after.json()["event"]).device == new
    # A repeat joins the new device's request; the old request gets nothing more.
    again = post(key_a, event(external_id="zbx-host-7", time=at(20)))
    assert again.json()["outcome"] == "appended" and again.json()["request"]["id"] == new_request.pk
    assert AlarmEvent.objects.filter(request=old_request).count() == 1


@pytest.mark.django_db
def test_an_alarm_naming_the_old_serial_number_lands_on_the_new_device_with_a_note(key_a, camera, engineer):
    new = replace(camera, engineer)
    answer = post(key_a, event(serial=camera.serial_number, time=at(0)))
    assert answer.status_code == 201 and answer.json()["outcome"] == "opened"
    stored = AlarmEvent.objects.get(pk=answer.json()["event"])
    assert stored.device == new and new.serial_number in stored.reason
    assert list(ServiceRequest.objects.get(pk=answer.json()["request"]["id"]).devices.all()) == [new]
    # With the manufacturer named too (the ORM's path), the same.
    named = post(key_a, event(serial=camera.serial_number, manufacturer=camera.manufacturer.name, time=at(5)))
    assert named.json()["outcome"] == "appended" and AlarmEvent.objects.get(pk=named.json()["event"]).device == new


@pytest.mark.django_db
def test_an_alias_left_on_a_retired_device_still_leads_to_the_new_one(key_a, customer_a, camera, engineer):
    new = replace(camera, engineer)
    DeviceAlias.objects.create(customer=customer_a, external_id="old-nms-id", device=camera)  # e.g. from before
    answer = post(key_a, event(external_id="old-nms-id", time=at(0)))
    assert AlarmEvent.objects.get(pk=answer.json()["event"]).device == new


@pytest.mark.django_db
def test_a_clear_after_the_replacement_changes_nothing_on_the_old_devices_request(key_a, camera, alias, engineer):
    opened = post(key_a, event(external_id="zbx-host-7", time=at(0)))
    old_request = ServiceRequest.objects.get(pk=opened.json()["request"]["id"])
    replace(camera, engineer)
    cleared = post(key_a, event(external_id="zbx-host-7", state="cleared", time=at(10)))
    assert cleared.json()["outcome"] == "ignored"
    old_request.refresh_from_db()
    assert old_request.is_open and ActiveAlarm.objects.get(device=camera).cleared_at is None


@pytest.mark.django_db
def test_a_device_retired_without_a_replacement_gets_no_alarm(key_a, camera):
    from aftersales.assets.services import retire
    from aftersales.core import clock

    retire(camera, at=clock.now())
    answer = post(key_a, event(serial=camera.serial_number, time=at(0)))
    assert answer.json()["outcome"] == "unmatched"
    assert "retired" in AlarmEvent.objects.get(pk=answer.json()["event"]).reason or \
        camera.serial_number in AlarmEvent.objects.get(pk=answer.json()["event"]).reason


@pytest.mark.django_db
def test_mapping_an_external_id_to_a_retired_device_is_a_400_naming_the_replacement(
        key_a, camera, engineer, admin_user):
    new = replace(camera, engineer)
    unmatched = post(key_a, event(external_id="unknown-host", time=at(0)))
    assert unmatched.json()["outcome"] == "unmatched"
    answer = api_as(admin_user).post(f"/api/alarms/unmatched/{unmatched.json()['event']}/map/", {"device": camera.pk},
                                     format="json")
    assert answer.status_code == 400
    assert "device" in answer.json()["fields"] and new.serial_number in answer.json()["detail"]
    assert not DeviceAlias.objects.filter(external_id="unknown-host").exists()
    assert AlarmEvent.objects.get(pk=unmatched.json()["event"]).outcome == AlarmOutcome.UNMATCHED
