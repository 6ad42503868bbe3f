"""REP-1 (issue 22 §2, §3): the three ways a repair goes, walked end to end through the verbs. Each step is a recorded
transition (who, when, from which state to which); a replacement keeps the old device's history and its label."""

from datetime import date

import pytest

from aftersales.assets.models import Device
from aftersales.intake.labels.codes import device_for_code
from aftersales.repairs import services
from aftersales.repairs.models import DeviceReplacement, OpenedFrom, RepairState, RepairStep, VendorRma
from aftersales.repairs.transitions import VendorRejected
from aftersales.service import verbs

from .conftest import take


def steps(case):
    return list(RepairStep.objects.filter(case=case).order_by("at", "pk").values_list("kind", "from_state", "to_state"))


def test_on_site_path_from_a_service_request_records_every_step(project_a, device_a, customer_user_a, dispatcher,
                                                                 engineer):
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="serious", channel="portal",
                                 title="摄像机无图像", description="大门摄像机黑屏", devices=[device_a])
    case = services.open_case(by=dispatcher, device=device_a, service_request=request, fault=request.description)
    assert (case.opened_from, case.state, case.customer_id, case.branch_id) == (
        OpenedFrom.REQUEST, RepairState.DIAGNOSING, project_a.customer_id, project_a.branch_id)
    case = take(case, "repair_on_site", engineer)
    case = take(case, "finish_repair", engineer, note="更换电源适配器")
    case = take(case, "close", dispatcher)
    assert case.state == RepairState.CLOSED and case.ended_at is not None
    assert steps(case) == [("opened", "", "diagnosing"), ("repair_on_site", "diagnosing", "repairing"),
                           ("finish_repair", "repairing", "fixed"), ("close", "fixed", "closed")]
    actors = list(RepairStep.objects.filter(case=case).order_by("at", "pk").values_list("actor__username", flat=True))
    assert actors == ["dispatcher", "engineer", "engineer", "dispatcher"]
    assert RepairStep.objects.get(case=case, kind="finish_repair").note == "更换电源适配器"


def test_a_replacement_under_a_contract_that_restarts_gets_a_fresh_warranty_and_joins_the_contract(
        case_a, device_a, engineer, dispatcher, frozen_clock):
    from aftersales.contracts.models import ReplacementCoverage
    from aftersales.core import clock

    from ..contracts.conftest import make_contract

    contract = make_contract(device_a.project, dispatcher, devices=[device_a], replacement=ReplacementCoverage.RESTART,
                             starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
    case = take(case_a, "plan_replacement", dispatcher, source="customer")
    take(case, "replace", engineer, serial="CAM-NEW-0002", source="customer", from_where="业主备件库")
    new = Device.objects.get(serial_number="CAM-NEW-0002")
    assert new.warranty_start == clock.now().astimezone(clock.SHANGHAI).date()
    assert set(contract.devices.all()) == {device_a, new}


def test_a_case_opened_from_an_inspection_finding_keeps_its_reference(device_a, dispatcher):
    case = services.open_case(by=dispatcher, device=device_a, fault="风扇异响", finding_ref="XJ-7")
    assert (case.opened_from, case.finding_ref, case.service_request) == (OpenedFrom.INSPECTION, "XJ-7", None)


def test_replacement_path_links_old_and_new_device_and_the_label_follows_the_new_one(case_a, device_a, engineer,
                                                                                      dispatcher):
    device_a.warranty_end_override = date(2031, 6, 30)
    device_a.save()
    old_code = device_a.label_code
    case = take(case_a, "plan_replacement", dispatcher, source="customer")
    assert case.state == RepairState.AWAITING_UNIT
    case = take(case, "replace", engineer, serial="CAM-NEW-0001", source="customer", from_where="业主备件库")
    assert case.state == RepairState.FIXED
    new = Device.objects.get(serial_number="CAM-NEW-0001")
    device_a.refresh_from_db()
    # §3: a new device row in the same project, category and model, linked both ways; the old one kept.
    assert (new.project_id, new.category_id, new.model, new.manufacturer_id, new.name) == (
        device_a.project_id, device_a.category_id, device_a.model, device_a.manufacturer_id, device_a.name)
    link = DeviceReplacement.objects.get(old=device_a)
    assert (link.new, link.case_id, link.source, link.from_where, link.by) == (new, case.pk, "customer", "业主备件库", engineer)
    assert case.replaced_by == new
    # The label: a scan of the old label opens the new device; the old device has a fresh code of its own.
    assert new.label_code == old_code and device_a.label_code != old_code
    assert device_for_code(old_code) == new
    # Without a contract that restarts it, the remaining coverage is carried over (contracts.cover_replacement).
    assert (new.warranty_end, new.warranty_end_override) == (date(2031, 6, 30), date(2031, 6, 30))
    case = take(case, "close", dispatcher)
    assert [kind for kind, _from, _to in steps(case)] == ["opened", "plan_replacement", "replace", "close"]


def test_scanning_the_old_label_shows_the_new_device(client, case_a, device_a, engineer):
    old_code = device_a.label_code
    take(case_a, "replace", engineer, serial="CAM-NEW-0002")
    page = client.get(f"/intake/d/{old_code}/")
    assert page.status_code == 200
    shown = page.content.decode()
    assert "CAM-NEW-0002" in shown and device_a.serial_number not in shown


def test_replacing_with_a_serial_already_in_the_registry_is_a_conflict_and_writes_nothing(case_a, device_a, device_b,
                                                                                           engineer):
    before = (Device.objects.count(), RepairStep.objects.count(), device_a.label_code)
    with pytest.raises(services.Conflict) as refused:
        take(case_a, "replace", engineer, serial=device_b.serial_number, manufacturer=device_b.manufacturer)
    assert refused.value.field == "serial"
    device_a.refresh_from_db()
    assert (Device.objects.count(), RepairStep.objects.count(), device_a.label_code) == before


def test_a_replaced_device_takes_no_new_case_the_new_one_does(case_a, device_a, engineer, dispatcher):
    case = take(case_a, "replace", engineer, serial="CAM-NEW-0003")
    take(case, "close", dispatcher)
    with pytest.raises(services.DomainError) as refused:
        services.open_case(by=dispatcher, device=device_a, fault="再次故障")
    assert "CAM-NEW-0003" in str(refused.value.message)
    assert services.open_case(by=dispatcher, device=case.replaced_by, fault="再次故障").device == case.replaced_by


def test_a_second_replacement_in_the_same_case_replaces_the_unit_in_service(case_a, device_a, engineer):
    case = take(case_a, "replace", engineer, serial="DOA-0001")
    case = take(case, "rediagnose", engineer, note="新设备到货即坏")
    case = take(case, "replace", engineer, serial="GOOD-0001")
    first, second = Device.objects.get(serial_number="DOA-0001"), Device.objects.get(serial_number="GOOD-0001")
    assert list(DeviceReplacement.objects.order_by("pk").values_list("old", "new")) == [(device_a.pk, first.pk),
                                                                                         (first.pk, second.pk)]
    assert case.replaced_by == second
    assert device_for_code(Device.objects.get(pk=second.pk).label_code) == second


@pytest.mark.parametrize("verdict", ["repaired", "replaced", "rejected"])
def test_vendor_rma_path_with_each_verdict(verdict, case_a, device_a, logistics, engineer, dispatcher, stocked_van,
                                          spare_camera):
    old_code = device_a.label_code
    case = take(case_a, "send_to_vendor", logistics, sent_on=date(2026, 11, 20))
    rma = VendorRma.objects.get(case=case)
    assert (case.state, rma.rma_number, rma.manufacturer, rma.carrier, rma.tracking_number, rma.sent_on) == (
        RepairState.AT_VENDOR, "RMA-2026-001", device_a.manufacturer, "顺丰速运", "SF100200300", date(2026, 11, 20))
    assert rma.expected_back_on == date(2026, 12, 20)  # 30 days unless told otherwise
    returned_serial = "VENDOR-SN-9" if verdict == "replaced" else ""
    case = take(case, "return_from_vendor", logistics, verdict=verdict, returned_serial=returned_serial)
    rma.refresh_from_db()
    assert (case.state, rma.verdict, rma.returned_serial, rma.received_by) == (RepairState.RETURNED, verdict,
                                                                               returned_serial, logistics)
    if verdict == "rejected":
        with pytest.raises(VendorRejected):
            take(case, "reinstall", engineer)
        case = take(case, "rediagnose", engineer, note="厂家拒保")
        case = take(case, "replace", engineer, serial="STOCK-0009", source="stock", from_where="", part=spare_camera,
                    location=stocked_van)
    else:
        case = take(case, "reinstall", engineer)
    case = take(case, "close", dispatcher)
    assert case.state == RepairState.CLOSED
    replaced = DeviceReplacement.objects.filter(old=device_a).select_related("new").first()
    if verdict == "repaired":
        assert replaced is None and device_for_code(old_code) == device_a
    else:  # the unit that came back (or the one from stock) is a new device, and the label follows it
        expected = {"replaced": ("VENDOR-SN-9", "vendor"), "rejected": ("STOCK-0009", "stock")}[verdict]
        assert (replaced.new.serial_number, replaced.source) == expected
        assert device_for_code(old_code) == replaced.new


def test_rma_details_are_corrected_in_flight_with_a_history_line(case_a, logistics):
    case = take(case_a, "send_to_vendor", logistics)
    case = services.update_rma(case=case, by=logistics, version=case.version, rma_number="RMA-2026-001",
                               manufacturer=case.device.manufacturer, carrier="京东物流", tracking_number="JD42")
    rma = VendorRma.objects.get(case=case)
    assert (rma.carrier, rma.tracking_number) == ("京东物流", "JD42")
    line = RepairStep.objects.get(case=case, kind="rma_updated")
    assert line.data["changes"] == {"carrier": ["顺丰速运", "京东物流"], "tracking_number": ["SF100200300", "JD42"]}


def test_one_open_case_per_device(case_a, device_a, dispatcher):
    with pytest.raises(services.Conflict) as refused:
        services.open_case(by=dispatcher, device=device_a, fault="again")
    assert case_a.number in str(refused.value.message)
    take(case_a, "cancel", dispatcher)
    assert services.open_case(by=dispatcher, device=device_a, fault="again").state == RepairState.DIAGNOSING
