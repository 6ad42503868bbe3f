"""CUS-4: a renewal is a new period, never an edited end date; the history of who was covered when survives."""

from datetime import date

import pytest

from aftersales.contracts import services
from aftersales.contracts.coverage import coverage_on
from aftersales.contracts.models import CoveragePeriod, Renewal, ServiceContract
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject

from ..factories import DeviceFactory
from .conftest import make_contract


def periods(contract):
    return list(contract.periods.order_by("starts_on").values_list("starts_on", "ends_on", "renews__starts_on"))


def test_a_new_contract_has_its_first_period_and_covers_the_whole_project(contract_a, device_a):
    assert periods(contract_a) == [(date(2026, 1, 1), date(2026, 12, 31), None)]
    assert contract_a.whole_project and contract_a.created_by.username == "dispatcher"
    later = DeviceFactory(project=device_a.project)  # a device added later is covered too
    assert coverage_on(later, date(2026, 6, 1)).periods[-1].contract_number == "WB-2026-001"


def test_renewing_adds_the_next_period_and_leaves_the_first_as_it_was(contract_a, dispatcher):
    first = contract_a.periods.get()
    renewal = services.renew(contract=contract_a, by=dispatcher, version=contract_a.version)
    assert (renewal.starts_on, renewal.ends_on, renewal.renews_id) == (date(2027, 1, 1), date(2027, 12, 31), first.pk)
    assert renewal.response_tier == "7x24" and renewal.created_by == dispatcher
    first.refresh_from_db()
    assert (first.starts_on, first.ends_on) == (date(2026, 1, 1), date(2026, 12, 31))
    assert periods(contract_a) == [(date(2026, 1, 1), date(2026, 12, 31), None),
                                   (date(2027, 1, 1), date(2027, 12, 31), date(2026, 1, 1))]


def test_an_express_renewal_may_change_its_dates_and_what_it_covers_and_leave_a_gap(contract_a, dispatcher, device_a):
    renewal = services.renew(contract=contract_a, by=dispatcher, version=contract_a.version,
                             starts_on=date(2027, 2, 1), ends_on=date(2027, 7, 31), covers_parts=False,
                             response_tier="office_hours")
    assert (renewal.covers_parts, renewal.covers_labour, renewal.response_tier) == (False, True, "office_hours")
    assert coverage_on(device_a, date(2027, 1, 15)) is None or all(
        p.kind != "contract" for p in coverage_on(device_a, date(2027, 1, 15)).periods)


def test_only_the_latest_period_is_renewed_and_only_once(contract_a, dispatcher):
    first = contract_a.periods.get()
    services.renew(contract=contract_a, by=dispatcher, version=contract_a.version)
    contract_a.refresh_from_db()
    with pytest.raises(IllegalTransition):
        services.renew(period=first, by=dispatcher, version=contract_a.version)
    assert contract_a.periods.count() == 2


def test_a_renewal_cannot_start_inside_the_period_it_renews_nor_end_before_it_starts(contract_a, dispatcher):
    with pytest.raises(DomainError) as inside:
        services.renew(contract=contract_a, by=dispatcher, version=contract_a.version, starts_on=date(2026, 12, 31))
    assert inside.value.field == "starts_on"
    contract_a.refresh_from_db()
    with pytest.raises(DomainError) as backwards:
        services.renew(contract=contract_a, by=dispatcher, version=contract_a.version, starts_on=date(2027, 3, 1),
                       ends_on=date(2027, 2, 1))
    assert backwards.value.field == "ends_on"
    with pytest.raises(DomainError) as implausible:
        services.renew(contract=contract_a, by=dispatcher, version=contract_a.version, ends_on=date(9999, 12, 31))
    assert implausible.value.field == "ends_on"
    assert contract_a.periods.count() == 1


def test_a_renewal_on_an_old_version_is_stale_and_writes_nothing(contract_a, dispatcher, manager):
    seen = contract_a.version
    services.update_contract(contract=contract_a, by=manager, version=seen, notes="续约前核对设备清单")
    with pytest.raises(StaleObject):
        services.renew(contract=contract_a, by=dispatcher, version=seen)
    assert contract_a.periods.count() == 1


def test_the_daily_job_renews_an_ended_tacit_period_once(contract_a):
    assert services.renew_due_tacit(today=date(2026, 12, 31)) == []  # its last day: not ended yet
    [renewal] = services.renew_due_tacit(today=date(2027, 1, 1))
    assert (renewal.starts_on, renewal.ends_on, renewal.created_by) == (date(2027, 1, 1), date(2027, 12, 31), None)
    assert services.renew_due_tacit(today=date(2027, 1, 2)) == []
    assert contract_a.periods.count() == 2


def test_a_job_that_was_off_for_years_renews_period_after_period_up_to_today(contract_a):
    renewals = services.renew_due_tacit(today=date(2029, 3, 1))
    assert [(p.starts_on, p.ends_on) for p in renewals] == [
        (date(2027, 1, 1), date(2027, 12, 31)), (date(2028, 1, 1), date(2028, 12, 31)),
        (date(2029, 1, 1), date(2029, 12, 31))]
    assert [p.renews_id for p in renewals[1:]] == [p.pk for p in renewals[:-1]]


def test_express_contracts_and_contracts_with_notice_are_not_renewed_by_the_job(project_a, dispatcher, contract_a):
    express = make_contract(project_a, dispatcher, number="WB-EX-1", renewal=Renewal.EXPRESS)
    services.cancel(contract=contract_a, by=dispatcher, version=contract_a.version, reason="业主书面通知不再续约")
    assert services.renew_due_tacit(today=date(2027, 6, 1)) == []
    assert express.periods.count() == contract_a.periods.count() == 1


def test_notice_stops_every_renewal_and_is_given_once(contract_a, dispatcher, frozen_clock):
    contract = services.cancel(contract=contract_a, by=dispatcher, version=contract_a.version, reason="预算取消")
    assert (contract.cancelled_on, contract.cancelled_by, contract.cancel_reason) == (date(2026, 11, 26), dispatcher, "预算取消")
    with pytest.raises(IllegalTransition):
        services.renew(contract=contract, by=dispatcher, version=contract.version)
    with pytest.raises(IllegalTransition):
        services.cancel(contract=contract, by=dispatcher, version=contract.version, reason="again")
    with pytest.raises(DomainError) as blank:
        services.cancel(contract=make_contract(contract.project, number="X2"), by=dispatcher, version=1, reason=" ")
    assert blank.value.field == "reason"


def test_a_contract_lists_only_devices_of_its_project(project_a, dispatcher, device_a, device_b):
    with pytest.raises(DomainError) as foreign:
        make_contract(project_a, dispatcher, devices=[device_a, device_b])
    assert foreign.value.field == "devices" and not ServiceContract.objects.exists()
    listed = make_contract(project_a, dispatcher, devices=[device_a])
    assert not listed.whole_project and list(listed.devices.all()) == [device_a]
    other = DeviceFactory(project=project_a)
    assert coverage_on(other, date(2026, 6, 1)) is None
    assert coverage_on(device_a, date(2026, 6, 1)).periods[0].contract_id == listed.pk
    services.update_contract(contract=listed, by=dispatcher, version=listed.version, devices=[])  # whole project now
    assert coverage_on(other, date(2026, 6, 1)) is not None


@pytest.mark.parametrize(("changes", "field"), [
    ({"number": " "}, "number"), ({"number": "WB-SH-2026-001"}, "number"), ({"notice_days": 400}, "notice_days"),
    ({"signed_on": date(1970, 1, 1)}, "signed_on"), ({"amount": -1}, "amount"),
])
def test_bad_contract_terms_are_field_errors_and_write_nothing(contract_a, contract_b, dispatcher, changes, field):
    with pytest.raises(DomainError) as error:
        services.update_contract(contract=contract_a, by=dispatcher, version=contract_a.version, **changes)
    assert error.value.field == field
    assert ServiceContract.objects.get(pk=contract_a.pk).version == contract_a.version


def test_a_correction_may_not_overlap_the_renewal_and_re_dates_the_period(contract_a, dispatcher):
    first = contract_a.periods.get()
    services.renew(contract=contract_a, by=dispatcher, version=contract_a.version)
    with pytest.raises(DomainError):
        services.correct_period(period=first, by=dispatcher, version=first.version, starts_on=first.starts_on,
                                ends_on=date(2027, 1, 15))
    corrected = services.correct_period(period=first, by=dispatcher, version=first.version, starts_on=date(2026, 2, 1),
                                        ends_on=first.ends_on, covers_onsite=False)
    assert (corrected.starts_on, corrected.covers_onsite, corrected.version) == (date(2026, 2, 1), False, 2)
    assert CoveragePeriod.objects.get(pk=first.pk).starts_on == date(2026, 2, 1)
