"""CUS-4: "covered on day D?" is arithmetic over dated periods — no ORM, no clock. Inclusive dates: a period covers
its first and its last day, not the day before nor the day after."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.assets import warranty
from aftersales.contracts.coverage import (
    Period, due_offset, merge, next_period, notice_deadline, same_length, warranty_periods, whole_months,
)
from aftersales.contracts.models import CoverageKind

D = date
MANUFACTURER = Period(CoverageKind.MANUFACTURER, D(2023, 6, 1), D(2025, 5, 31))
EXTENSION = Period(CoverageKind.INTEGRATOR, D(2025, 6, 1), D(2026, 5, 31))
# A contract that overlaps the extension's last months and covers labour and on-site only, office hours.
CONTRACT = Period(CoverageKind.CONTRACT, D(2026, 3, 1), D(2027, 2, 28), parts=False, labour=True, onsite=True,
                  response_tier="office_hours", contract_id=7, contract_number="WB-7", period_id=70)
# After a gap of a month, a 7×24 contract with parts.
LATER = Period(CoverageKind.CONTRACT, D(2027, 4, 1), D(2028, 3, 31), response_tier="7x24", contract_id=8,
               contract_number="WB-8", period_id=80)
ALL = [MANUFACTURER, EXTENSION, CONTRACT, LATER]


def kinds(coverage):
    return None if coverage is None else [(p.kind, p.contract_number) for p in coverage.periods]


@pytest.mark.parametrize(("day", "expected"), [
    # manufacturer warranty: before it, its first day, its last day, the day after (the extension's first)
    (D(2023, 5, 31), None),
    (D(2023, 6, 1), [("manufacturer", "")]),
    (D(2025, 5, 31), [("manufacturer", "")]),
    (D(2025, 6, 1), [("integrator", "")]),
    # the contract starts inside the extension: both cover the day before the extension ends, its end, the day after
    (D(2026, 2, 28), [("integrator", "")]),
    (D(2026, 3, 1), [("integrator", ""), ("contract", "WB-7")]),
    (D(2026, 5, 31), [("integrator", ""), ("contract", "WB-7")]),
    (D(2026, 6, 1), [("contract", "WB-7")]),
    # the contract's end (a February that is not a leap year), the gap, the next contract
    (D(2027, 2, 27), [("contract", "WB-7")]),
    (D(2027, 2, 28), [("contract", "WB-7")]),
    (D(2027, 3, 1), None),
    (D(2027, 3, 31), None),
    (D(2027, 4, 1), [("contract", "WB-8")]),
    (D(2028, 3, 31), [("contract", "WB-8")]),
    (D(2028, 4, 1), None),
])
def test_which_periods_cover_a_day(day, expected):
    assert kinds(merge(ALL, day)) == expected


def test_what_is_covered_is_the_union_of_the_covering_periods():
    only_contract = merge(ALL, D(2026, 6, 1))
    assert (only_contract.parts, only_contract.labour, only_contract.onsite) == (False, True, True)
    both = merge(ALL, D(2026, 4, 1))  # the extension adds parts to what the contract covers
    assert (both.parts, both.labour, both.onsite) == (True, True, True)
    assert both.day == D(2026, 4, 1)


def test_the_response_is_the_strongest_of_the_covering_periods():
    faster = Period(CoverageKind.CONTRACT, D(2026, 5, 1), D(2026, 5, 31), response_tier="7x24")
    assert merge(ALL, D(2026, 4, 1)).response_tier == "office_hours"
    assert merge([*ALL, faster], D(2026, 5, 15)).response_tier == "7x24"
    assert merge(ALL, D(2025, 1, 1)).response_tier == ""  # the warranty states none


def test_nothing_covers_an_empty_list_or_a_period_that_ends_before_the_day():
    assert merge([], D(2026, 1, 1)) is None
    assert merge([Period(CoverageKind.CONTRACT, D(2020, 1, 1), D(2020, 1, 1))], D(2020, 1, 2)) is None
    assert kinds(merge([Period(CoverageKind.CONTRACT, D(2020, 1, 1), D(2020, 1, 1))], D(2020, 1, 1))) == [("contract", "")]


def test_overlapping_contracts_of_the_same_kind_are_both_named_oldest_first():
    a = Period(CoverageKind.CONTRACT, D(2026, 1, 1), D(2026, 12, 31), contract_number="A", period_id=2)
    b = Period(CoverageKind.CONTRACT, D(2025, 7, 1), D(2026, 6, 30), contract_number="B", period_id=1)
    assert [p.contract_number for p in merge([a, b], D(2026, 3, 1)).periods] == ["B", "A"]


# ------------------------------------------------------------------------------------------ warranty periods

def test_warranty_periods_follow_the_devices_stored_dates():
    periods = warranty_periods(start=D(2024, 3, 15), manufacturer_end=D(2026, 3, 14), warranty_end=D(2027, 3, 14))
    assert periods == [Period(CoverageKind.MANUFACTURER, D(2024, 3, 15), D(2026, 3, 14)),
                       Period(CoverageKind.INTEGRATOR, D(2026, 3, 15), D(2027, 3, 14))]
    assert all(p.parts and p.labour and p.onsite for p in periods)  # the seed: free repair and replacement


@pytest.mark.parametrize(("start", "manufacturer_end", "end", "expected"), [
    (None, None, None, []),  # not accepted, no override: unknown
    (D(2024, 1, 1), D(2026, 12, 31), D(2026, 12, 31), [("manufacturer", D(2024, 1, 1), D(2026, 12, 31))]),
    (None, D(2026, 6, 30), D(2027, 6, 30), [("manufacturer", None, D(2026, 6, 30)),
                                            ("integrator", D(2026, 7, 1), D(2027, 6, 30))]),
    (D(2024, 1, 1), None, D(2026, 12, 31), [("integrator", D(2024, 1, 1), D(2026, 12, 31))]),
])
def test_warranty_periods_of_unusual_dates(start, manufacturer_end, end, expected):
    got = warranty_periods(start=start, manufacturer_end=manufacturer_end, warranty_end=end)
    assert [(p.kind, p.starts_on, p.ends_on) for p in got] == expected


dates = st.dates(min_value=D(2015, 1, 1), max_value=D(2035, 12, 31))


@given(start=st.one_of(st.none(), dates), manufacturer=st.integers(0, 120), integrator=st.integers(0, 120),
       manufacturer_override=st.one_of(st.none(), dates), end_override=st.one_of(st.none(), dates), day=dates)
def test_the_warranty_periods_agree_with_the_warranty_status_on_every_day(
        start, manufacturer, integrator, manufacturer_override, end_override, day):
    """The periods are the warranty the device page and the expiring list show (assets/warranty.py), not a copy."""
    stored = warranty.periods(start=start, manufacturer_months=manufacturer, integrator_months=integrator,
                              manufacturer_end_override=manufacturer_override, warranty_end_override=end_override)
    periods = warranty_periods(start=stored.start, manufacturer_end=stored.manufacturer_end,
                               warranty_end=stored.warranty_end)
    status = warranty.status_on(stored, day)
    coverage = merge(periods, day)
    assert (coverage is not None) == status.in_warranty
    if coverage is not None:
        expected = {warranty.WarrantyState.MANUFACTURER: "manufacturer", warranty.WarrantyState.INTEGRATOR: "integrator"}
        assert [p.kind for p in coverage.periods] == [expected[status.state]]


# ------------------------------------------------------------------------------------------ renewal arithmetic

@pytest.mark.parametrize(("starts", "ends", "expected"), [
    (D(2024, 8, 29), D(2025, 8, 28), (D(2025, 8, 29), D(2026, 8, 28))),  # GLPI #23084's contract: 12 months
    (D(2025, 1, 1), D(2025, 12, 31), (D(2026, 1, 1), D(2026, 12, 31))),
    (D(2027, 3, 1), D(2028, 2, 29), (D(2028, 3, 1), D(2029, 2, 28))),  # a year across 29 February stays a year
    (D(2023, 3, 1), D(2024, 2, 29), (D(2024, 3, 1), D(2025, 2, 28))),
    (D(2026, 1, 1), D(2026, 6, 30), (D(2026, 7, 1), D(2026, 12, 31))),  # six months
    (D(2026, 1, 10), D(2026, 2, 18), (D(2026, 2, 19), D(2026, 3, 30))),  # 40 days: kept in days
])
def test_a_renewal_has_the_same_length_from_the_day_after(starts, ends, expected):
    assert next_period(starts, ends) == expected


def test_whole_months_and_same_length():
    assert whole_months(D(2025, 1, 15), D(2026, 1, 14)) == 12
    assert whole_months(D(2025, 1, 15), D(2026, 1, 15)) is None
    assert same_length(D(2025, 1, 1), D(2025, 12, 31), starting=D(2026, 3, 1)) == D(2027, 2, 28)


@pytest.mark.parametrize(("days_left", "offset"), [
    (-1, None), (0, 7), (6, 7), (7, 7), (8, 30), (29, 30), (30, 30), (31, 90), (89, 90), (90, 90), (91, None)])
def test_the_reminder_due_is_the_nearest_offset_whose_day_has_come(days_left, offset):
    today = D(2026, 11, 26)
    assert due_offset(today + timedelta(days=days_left), today) == offset


def test_the_notice_deadline_counts_from_the_periods_own_end():
    assert notice_deadline(D(2026, 8, 28), 61) == D(2026, 6, 28)  # GLPI #23084: not 2025-06-28
