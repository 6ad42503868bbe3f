"""CUS-4: warranty state at its boundaries."""

from datetime import date

import pytest

from aftersales.assets import warranty
from aftersales.assets.warranty import WarrantyState

ACCEPTED = date(2024, 3, 15)


def default_periods(**overrides):
    return warranty.periods(start=ACCEPTED, manufacturer_months=24, integrator_months=12, **overrides)


@pytest.mark.parametrize(
    ("day", "state"),
    [
        (date(2024, 3, 14), WarrantyState.NOT_STARTED),
        (ACCEPTED, WarrantyState.MANUFACTURER),
        (date(2026, 3, 14), WarrantyState.MANUFACTURER),  # the manufacturer's last day
        (date(2026, 3, 15), WarrantyState.INTEGRATOR),  # the integrator's year begins
        (date(2027, 3, 14), WarrantyState.INTEGRATOR),  # the day the warranty ends
        (date(2027, 3, 15), WarrantyState.EXPIRED),
    ],
)
def test_default_three_years_from_acceptance(day, state):
    assert warranty.status_on(default_periods(), day).state == state


def test_end_dates_are_inclusive_last_days():
    p = default_periods()
    assert (p.manufacturer_end, p.warranty_end) == (date(2026, 3, 14), date(2027, 3, 14))


def test_month_end_acceptance_clamps_to_shorter_month():
    p = warranty.periods(start=date(2024, 1, 31), manufacturer_months=1, integrator_months=0)
    assert p.manufacturer_end == date(2024, 2, 28)  # 2024-02-29 is the clamped anniversary, minus one day
    assert warranty.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_device_override_extends_the_whole_warranty():
    p = default_periods(warranty_end_override=date(2029, 12, 31))
    assert warranty.status_on(p, date(2028, 1, 1)).state == WarrantyState.INTEGRATOR
    assert warranty.status_on(p, date(2030, 1, 1)).state == WarrantyState.EXPIRED


def test_override_without_acceptance_still_gives_a_state():
    p = warranty.periods(start=None, manufacturer_months=24, integrator_months=12, warranty_end_override=date(2026, 1, 1))
    assert warranty.status_on(p, date(2026, 1, 1)).in_warranty
    assert warranty.status_on(p, date(2026, 1, 2)).state == WarrantyState.EXPIRED


def test_no_acceptance_is_unknown_not_an_error():
    p = warranty.periods(start=None, manufacturer_months=24, integrator_months=12)
    status = warranty.status_on(p, date(2026, 1, 1))
    assert status.state == WarrantyState.UNKNOWN and not status.in_warranty
