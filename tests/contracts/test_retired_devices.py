"""Issue 22 §3: a replaced (retired) device is not added to a contract — a 400 naming the field and the replacement —
but stays on the contracts that list it (their coverage history); warranty and contract reminders do not fire for it,
and "covered on day D?" still answers for it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from aftersales.assets.models import Device
from aftersales.contracts import reminders
from aftersales.contracts.coverage import coverage_on
from aftersales.contracts.models import CoverageReminder, ServiceContract
from aftersales.repairs import services as repairs

from ..conftest import api_as
from ..factories import DeviceFactory, ProjectFactory, current_version
from .conftest import make_contract

SH = ZoneInfo("Asia/Shanghai")
NEW = {"number": "WB-API-9", "starts_on": "2026-01-01", "ends_on": "2026-12-31", "renewal": "express",
       "notice_days": 30, "replacement": "carry_over"}


def replace(device, by, serial) -> Device:
    case = repairs.open_case(by=by, device=device, fault="主板烧毁")
    case = repairs.replace(case=case, by=by, version=current_version(case), serial=serial, source="customer")
    device.refresh_from_db()
    return case.replaced_by


@pytest.fixture
def project(customer_a):
    """Accepted 2024-01-01: the integrator's warranty ends 2026-12-31."""
    return ProjectFactory(customer=customer_a, accepted_on=date(2024, 1, 1))


def test_a_new_contract_with_a_retired_device_is_a_400_naming_the_field_and_the_replacement(
        project_a, device_a, engineer, dispatcher):
    new = replace(device_a, engineer, "CAM-NEW-0100")
    answer = api_as(dispatcher).post("/api/contracts/", NEW | {"project": project_a.pk, "devices": [device_a.pk]},
                                     format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid" and list(body["fields"]) == ["devices"]
    assert new.serial_number in body["fields"]["devices"][0] and new.serial_number in body["detail"]
    assert not ServiceContract.objects.filter(number="WB-API-9").exists()


def test_a_contract_keeps_the_retired_device_it_listed_but_another_cannot_add_it(project_a, device_a, engineer,
                                                                                 dispatcher):
    listing = make_contract(project_a, dispatcher, devices=[device_a])
    new = replace(device_a, engineer, "CAM-NEW-0101")
    assert set(listing.devices.all()) == {device_a, new}  # the replacement joined it (contracts.cover_replacement)
    api = api_as(dispatcher)
    kept = api.patch(f"/api/contracts/{listing.pk}/", {"version": current_version(listing),
                                                       "devices": [device_a.pk, new.pk], "notes": "续签前核对"},
                     format="json")
    assert kept.status_code == 200, kept.content
    assert set(kept.json()["devices"]) == {device_a.pk, new.pk}
    other = make_contract(project_a, dispatcher, number="WB-2026-002", devices=[new])
    refused = api.patch(f"/api/contracts/{other.pk}/", {"version": current_version(other),
                                                        "devices": [new.pk, device_a.pk]}, format="json")
    assert refused.status_code == 400 and "devices" in refused.json()["fields"]
    assert list(other.devices.all()) == [new]


def test_no_warranty_reminder_for_a_retired_device_its_replacement_gets_its_own(project, engineer, frozen_clock):
    old, kept = DeviceFactory(project=project), DeviceFactory(project=project)
    new = replace(old, engineer, "CAM-NEW-0102")  # the remaining warranty carried over: also ends 2026-12-31
    frozen_clock.move_to(datetime(2026, 12, 1, 9, tzinfo=SH))
    assert reminders.send_due_reminders() == 2
    assert set(CoverageReminder.objects.values_list("device_id", flat=True)) == {kept.pk, new.pk}


def test_no_reminder_for_a_contract_that_lists_only_retired_devices(project, dispatcher, engineer, frozen_clock):
    old = DeviceFactory(project=project)
    listing_only_old = make_contract(project, dispatcher, number="WB-OLD", devices=[old])
    whole = make_contract(project, dispatcher, number="WB-ALL")
    replace(old, engineer, "CAM-NEW-0103")
    listing_only_old.devices.remove(old.replaced_by)  # a contract left with its retired device only
    frozen_clock.move_to(datetime(2026, 12, 1, 9, tzinfo=SH))
    reminders.send_due_reminders()
    contracts = set(CoverageReminder.objects.filter(period__isnull=False).values_list("period__contract", flat=True))
    assert contracts == {whole.pk}


def test_the_coverage_of_a_retired_device_on_a_past_day_still_answers(project, dispatcher, engineer):
    old = DeviceFactory(project=project)
    make_contract(project, dispatcher, devices=[old], starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
    replace(old, engineer, "CAM-NEW-0104")
    on = coverage_on(old, date(2025, 6, 1))
    assert on is not None and {p.kind for p in on.periods} >= {"contract"}
    assert api_as(dispatcher).get(f"/api/devices/{old.pk}/coverage/", {"on": "2025-06-01"}).json()["covered"] is True
