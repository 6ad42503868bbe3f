"""Issue 22 §3: a device that replaces a covered one gets its own coverage — the remaining coverage carried over or
restarted, as the contract covering the old device says (the repairs call contracts.services.cover_replacement)."""

from datetime import date

import pytest

from aftersales.contracts import services
from aftersales.contracts.coverage import coverage_on
from aftersales.contracts.models import ReplacementCoverage
from aftersales.core.errors import DomainError

from ..factories import DeviceFactory, ProjectFactory
from .conftest import make_contract


@pytest.fixture
def project(customer_a):
    """Accepted 2024-06-01: warranty (24 + 12 months) through 2027-05-31."""
    return ProjectFactory(customer=customer_a, accepted_on=date(2024, 6, 1))


def test_without_a_contract_the_new_device_carries_the_remaining_warranty_over(project, dispatcher):
    old, new = DeviceFactory(project=project), DeviceFactory(project=project)
    old.warranty_end_override = date(2027, 8, 31)
    old.save()
    outcome = services.cover_replacement(old_device=old, new_device=new, on=date(2026, 11, 26), by=dispatcher)
    new.refresh_from_db()
    assert outcome.rule == ReplacementCoverage.CARRY_OVER and outcome.contracts == ()
    assert (new.warranty_start, new.manufacturer_warranty_end, new.warranty_end) == (
        old.warranty_start, old.manufacturer_warranty_end, date(2027, 8, 31))


def test_a_contract_that_restarts_gives_the_new_device_a_full_warranty_and_lists_it(project, dispatcher):
    old, new = DeviceFactory(project=project), DeviceFactory(project=project)
    contract = make_contract(project, dispatcher, devices=[old], replacement=ReplacementCoverage.RESTART)
    outcome = services.cover_replacement(old_device=old, new_device=new, on=date(2026, 11, 26), by=dispatcher)
    new.refresh_from_db()
    assert outcome.rule == ReplacementCoverage.RESTART and outcome.contracts == (contract,)
    assert (new.warranty_start, new.manufacturer_warranty_end, new.warranty_end) == (
        date(2026, 11, 26), date(2028, 11, 25), date(2029, 11, 25))
    assert set(contract.devices.all()) == {old, new}
    assert [p.kind for p in coverage_on(new, date(2026, 12, 1)).periods] == ["contract", "manufacturer"]


def test_the_rule_is_read_on_the_day_of_the_replacement(project, dispatcher):
    old, new = DeviceFactory(project=project), DeviceFactory(project=project)
    make_contract(project, dispatcher, replacement=ReplacementCoverage.RESTART, starts_on=date(2027, 1, 1),
                  ends_on=date(2027, 12, 31))  # not yet in force on the day
    assert services.replacement_rule(old, date(2026, 11, 26)) == ReplacementCoverage.CARRY_OVER
    assert services.replacement_rule(old, date(2027, 1, 1)) == ReplacementCoverage.RESTART
    with pytest.raises(DomainError):
        services.cover_replacement(old_device=old, new_device=new, on=date(1970, 1, 1), by=dispatcher)
