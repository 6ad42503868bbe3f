"""INS-1: a plan's calendar (inspections/schedule.py), pure: month ends, 29 February, quarterly anchoring."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from aftersales.inspections.schedule import MONTHLY, QUARTERLY, clamped, period_start, periods


def due_days(**kwargs):
    return [p.due_on for p in periods(**kwargs)]


def test_a_plan_anchored_on_the_31st_runs_on_the_last_day_of_shorter_months_and_comes_back_to_the_31st():
    assert due_days(cadence=MONTHLY, anchor_day=31, starts_on=date(2025, 1, 31), due_until=date(2025, 5, 31)) == [
        date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31)]


def test_29_february_in_a_leap_year_and_the_28th_in_others():
    assert due_days(cadence=MONTHLY, anchor_day=29, starts_on=date(2024, 1, 29), due_until=date(2024, 3, 31)) == [
        date(2024, 1, 29), date(2024, 2, 29), date(2024, 3, 29)]
    days = due_days(cadence=MONTHLY, anchor_day=29, starts_on=date(2027, 2, 1), due_until=date(2028, 3, 31))
    assert days[0] == date(2027, 2, 28) and date(2028, 2, 29) in days and date(2028, 3, 29) in days


def test_quarterly_plans_are_due_in_the_same_month_of_every_calendar_quarter():
    # anchored on the second month of the quarter, day 31: Feb (clamped), May, Aug, Nov
    assert due_days(cadence=QUARTERLY, anchor_day=31, anchor_month=1, starts_on=date(2024, 1, 1),
                    due_until=date(2024, 12, 31)) == [date(2024, 2, 29), date(2024, 5, 31), date(2024, 8, 31),
                                                      date(2024, 11, 30)]
    quarters = periods(cadence=QUARTERLY, anchor_day=15, anchor_month=2, starts_on=date(2026, 12, 20),
                       due_until=date(2027, 12, 31))
    assert [(p.start, p.end, p.due_on) for p in quarters][:2] == [
        (date(2027, 1, 1), date(2027, 3, 31), date(2027, 3, 15)),  # Q4 2026's day (12-15) is before the start
        (date(2027, 4, 1), date(2027, 6, 30), date(2027, 6, 15))]


def test_a_plan_starting_after_its_anchor_day_begins_next_period_and_ends_on_its_end_date():
    assert due_days(cadence=MONTHLY, anchor_day=10, starts_on=date(2026, 11, 26), ends_on=date(2027, 2, 10),
                    due_until=date(2028, 1, 1)) == [date(2026, 12, 10), date(2027, 1, 10), date(2027, 2, 10)]


def test_periods_whose_window_ended_are_not_generated():
    assert due_days(cadence=MONTHLY, anchor_day=5, starts_on=date(2026, 1, 5), open_on=date(2026, 11, 26),
                    due_until=date(2027, 1, 31)) == [date(2026, 11, 5), date(2026, 12, 5), date(2027, 1, 5)]


@given(anchor=st.integers(1, 31), offset=st.integers(0, 2), cadence=st.sampled_from([MONTHLY, QUARTERLY]),
       start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_every_due_day_is_in_its_period_on_its_anchor_or_its_months_last_day(anchor, offset, cadence, start):
    offset = offset if cadence == QUARTERLY else 0
    found = periods(cadence=cadence, anchor_day=anchor, anchor_month=offset, starts_on=start,
                    due_until=date(start.year + 2, start.month, 1))
    step = 1 if cadence == MONTHLY else 3
    assert len(found) >= 24 // step - 1
    for before, after in zip(found, found[1:]):
        assert (after.start - before.end).days == 1  # periods follow each other, none skipped, none twice
    for period in found:
        assert period.start == period_start(period.start, cadence) and period.contains(period.due_on)
        assert period.due_on >= start
        assert period.due_on == clamped(period.due_on.year, period.due_on.month, anchor)
        assert (period.due_on.month - period.start.month) % 12 == offset
