"""SRQ-3: due times over 7×24 and business-hours calendars, with holidays, 调休 and pauses."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales.core.calendar_math import (
    NINE_TO_SIX,
    OFFICE_HOURS,
    SHANGHAI,
    always_on_calendar,
    chinese_office_hours_calendar,
    is_working_time,
    local_date,
    office_hours_calendar,
    working_intervals,
)
from aftersales.service.sla import (
    MAX_DAYS_WITHOUT_WORKING_TIME,
    DueTime,
    add_service_time,
    due_at,
    elapsed_fraction,
    service_time_between,
)

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
ALWAYS = always_on_calendar()
NINE_TO_SIX_2026 = chinese_office_hours_calendar([2026], NINE_TO_SIX)  # 2026 known, 2027 not
OFFICE_2026 = chinese_office_hours_calendar([2026], OFFICE_HOURS)  # 09:00–12:00, 13:30–18:00


def sh(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def due(start, duration, calendar=NINE_TO_SIX_2026):
    return add_service_time(start, duration, calendar)


# --- 2026 National Day and its make-up days ---------------------------------------------------


@pytest.mark.parametrize("calendar", [NINE_TO_SIX_2026, OFFICE_2026], ids=["9-18", "lunch-break"])
def test_two_hours_from_the_eve_of_national_day(calendar):
    # Wed 2026-09-30 17:00: one hour that day, Oct 1–7 off, the second hour on Thu Oct 8.
    result = due(sh(2026, 9, 30, 17), 2 * H, calendar)
    assert result == DueTime(at=sh(2026, 10, 8, 10).astimezone(UTC), provisional=False)
    assert result.at.tzinfo is UTC


@pytest.mark.parametrize("calendar", [NINE_TO_SIX_2026, OFFICE_2026], ids=["9-18", "lunch-break"])
def test_saturday_request_counts_from_the_sunday_make_up_day(calendar):
    # Sat 2026-09-19 afternoon; Sun 09-20 is 调休上班, so counting starts there at 09:00.
    assert due(sh(2026, 9, 19, 15), 2 * H, calendar).at == sh(2026, 9, 20, 11)


def test_saturday_make_up_day_after_national_day():
    # Fri 2026-10-09 17:00 + 2 h: one hour on Friday, one on Sat Oct 10 (make-up day).
    assert due(sh(2026, 10, 9, 17), 2 * H).at == sh(2026, 10, 10, 10)


def test_start_inside_a_holiday():
    assert due(sh(2026, 10, 3, 10), H).at == sh(2026, 10, 8, 10)  # Saturday inside National Day
    assert due(sh(2026, 10, 5, 10), H).at == sh(2026, 10, 8, 10)  # Monday inside National Day


def test_start_on_an_ordinary_weekend():
    assert due(sh(2026, 11, 7, 10), H).at == sh(2026, 11, 9, 10)  # Sat → Mon 10:00
    assert due(sh(2026, 11, 8, 23, 59), H).at == sh(2026, 11, 9, 10)  # Sun night → Mon 10:00


def test_start_exactly_at_the_end_of_the_working_day():
    assert due(sh(2026, 11, 5, 18), H).at == sh(2026, 11, 6, 10)


def test_target_used_up_exactly_at_the_end_of_the_day_is_due_that_evening():
    assert due(sh(2026, 11, 5, 9), 9 * H).at == sh(2026, 11, 5, 18)
    assert due(sh(2026, 11, 5, 9), 3 * H, OFFICE_2026).at == sh(2026, 11, 5, 12)  # not 13:30


def test_lunch_break_is_not_counted():
    assert due(sh(2026, 11, 5, 11), 2 * H, OFFICE_2026).at == sh(2026, 11, 5, 14, 30)
    assert due(sh(2026, 11, 5, 12, 15), H, OFFICE_2026).at == sh(2026, 11, 5, 14, 30)


def test_eight_hours_over_a_weekend():
    # Fri 2026-11-06 14:00 + 8 h (general priority "resolved"): 4 h Friday, 4 h Monday.
    assert due(sh(2026, 11, 6, 14), 8 * H).at == sh(2026, 11, 9, 13)


def test_a_utc_evening_that_is_already_the_next_day_in_shanghai():
    start = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 2026-10-01 01:00 Beijing: National Day
    assert due(start, 2 * H).at == sh(2026, 10, 8, 11)
    same_wall_clock_in_shanghai = datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)
    assert due(same_wall_clock_in_shanghai, 2 * H).at == sh(2026, 10, 8, 10)


def test_result_is_the_same_instant_whatever_the_start_zone():
    start = sh(2026, 11, 5, 16)
    assert due(start, 3 * H) == due(start.astimezone(UTC), 3 * H)


# --- across New Year into 2027 (no holiday data) ----------------------------------------------


def test_across_new_year_into_an_unknown_year_is_provisional():
    # Thu 2026-12-31 17:00 + 2 h. 2027 has no data: the weekly pattern applies, so Fri 2027-01-01
    # (New Year's Day in reality) counts as an ordinary Friday. The due time is flagged provisional.
    result = due(sh(2026, 12, 31, 17), 2 * H)
    assert result.at == sh(2027, 1, 1, 10)
    assert result.provisional


def test_unknown_year_uses_weekdays_only():
    result = due(sh(2027, 1, 1, 17), 2 * H)  # Fri → Sat, Sun skipped → Mon 2027-01-04
    assert result.at == sh(2027, 1, 4, 10)
    assert result.provisional


def test_a_target_that_stays_in_the_known_year_is_not_provisional():
    assert not due(sh(2026, 12, 31, 9), 2 * H).provisional
    assert not due(sh(2026, 12, 31, 9), 9 * H).provisional  # due 18:00 on Dec 31: 2027 not looked at


def test_a_start_after_hours_on_new_years_eve_is_provisional():
    result = due(sh(2026, 12, 31, 20), timedelta(0))
    assert result == DueTime(at=sh(2027, 1, 1, 9).astimezone(UTC), provisional=True)


def test_seven_by_twenty_four_is_never_provisional():
    result = due(sh(2026, 12, 31, 23), 3 * H, ALWAYS)
    assert result == DueTime(at=sh(2027, 1, 1, 2).astimezone(UTC), provisional=False)


# --- zero and 7×24 ----------------------------------------------------------------------------


def test_zero_duration_moves_to_the_next_working_instant():
    assert due(sh(2026, 11, 7, 10), timedelta(0)).at == sh(2026, 11, 9, 9)  # Saturday → Mon 09:00
    assert due(sh(2026, 11, 5, 10), timedelta(0)).at == sh(2026, 11, 5, 10)  # already working
    assert due(sh(2026, 11, 5, 12, 30), timedelta(0), OFFICE_2026).at == sh(2026, 11, 5, 13, 30)
    assert due(sh(2026, 11, 5, 18), timedelta(0)).at == sh(2026, 11, 6, 9)  # end is exclusive


def test_seven_by_twenty_four_is_plain_addition_through_holidays():
    start = sh(2026, 9, 30, 23, 50)
    assert due(start, 10 * MINUTE, ALWAYS).at == sh(2026, 10, 1)
    assert due(start, timedelta(0), ALWAYS).at == start
    assert due(start, 30 * 24 * H, ALWAYS).at == start + 30 * 24 * H


def test_negative_duration_and_naive_start_are_refused():
    with pytest.raises(ValueError, match="negative"):
        due(sh(2026, 11, 5, 10), -MINUTE)
    with pytest.raises(ValueError, match="aware"):
        due(datetime(2026, 11, 5, 10), H)


# --- efficiency and broken calendars ----------------------------------------------------------


def test_a_target_of_many_weeks_is_computed_day_by_day():
    # 2026 has 248 working days of 9 h; a whole working year of service time lands in the next year.
    result = due(sh(2026, 1, 1), 248 * 9 * H)
    assert result.at == sh(2026, 12, 31, 18)
    assert not result.provisional
    assert service_time_between(sh(2026, 1, 1), sh(2027, 1, 1), NINE_TO_SIX_2026) == 248 * 9 * H


def test_a_calendar_without_reachable_working_time_raises_instead_of_looping():
    every_monday = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(120)]
    calendar = office_hours_calendar(NINE_TO_SIX, weekdays=[0], days_off=every_monday, known_years=[2026])
    with pytest.raises(ValueError, match=f"{MAX_DAYS_WITHOUT_WORKING_TIME} days"):
        due(sh(2026, 1, 1), H, calendar)


# --- service_time_between ---------------------------------------------------------------------


def test_service_time_between_examples():
    assert service_time_between(sh(2026, 9, 30, 17), sh(2026, 10, 8, 10), NINE_TO_SIX_2026) == 2 * H
    assert service_time_between(sh(2026, 11, 5, 11), sh(2026, 11, 5, 14, 30), OFFICE_2026) == 2 * H
    assert service_time_between(sh(2026, 11, 7), sh(2026, 11, 8, 23), NINE_TO_SIX_2026) == timedelta(0)
    assert service_time_between(sh(2026, 10, 1), sh(2026, 10, 2), ALWAYS) == 24 * H


def test_service_time_between_is_antisymmetric():
    a, b = sh(2026, 11, 5, 10), sh(2026, 11, 6, 11)
    assert service_time_between(b, a, NINE_TO_SIX_2026) == -service_time_between(a, b, NINE_TO_SIX_2026) == -10 * H


# --- pauses: the clock is a log ---------------------------------------------------------------


def test_a_pause_in_working_time_moves_the_due_time():
    start = sh(2026, 11, 5, 9)
    pause = (sh(2026, 11, 5, 10), sh(2026, 11, 5, 11, 30))
    assert due_at(start, 2 * H, NINE_TO_SIX_2026, [pause]).at == sh(2026, 11, 5, 12, 30)


def test_a_pause_outside_working_time_changes_nothing():
    start = sh(2026, 11, 6, 17)  # Friday
    weekend_pause = (sh(2026, 11, 6, 19), sh(2026, 11, 8, 20))
    assert due_at(start, 2 * H, NINE_TO_SIX_2026, [weekend_pause]).at == sh(2026, 11, 9, 10)


def test_a_pause_before_the_start_is_ignored_and_one_straddling_it_is_clipped():
    start = sh(2026, 11, 5, 9)
    assert due_at(start, H, NINE_TO_SIX_2026, [(sh(2026, 11, 4, 9), sh(2026, 11, 4, 17))]).at == sh(2026, 11, 5, 10)
    assert due_at(start, H, NINE_TO_SIX_2026, [(sh(2026, 11, 4, 9), sh(2026, 11, 5, 9, 30))]).at == sh(
        2026, 11, 5, 10, 30
    )


def test_overlapping_pauses_count_once():
    start = sh(2026, 11, 5, 9)
    pauses = [(sh(2026, 11, 5, 10), sh(2026, 11, 5, 11)), (sh(2026, 11, 5, 10, 30), sh(2026, 11, 5, 12))]
    assert due_at(start, 2 * H, NINE_TO_SIX_2026, pauses).at == sh(2026, 11, 5, 13)


def test_an_open_pause_makes_the_due_time_unknown():
    start = sh(2026, 11, 5, 9)
    result = due_at(start, 2 * H, NINE_TO_SIX_2026, [(sh(2026, 11, 5, 10), None)])
    assert result == DueTime(at=None, paused=True)


def test_an_open_pause_after_the_target_was_used_up_keeps_the_breach():
    start = sh(2026, 11, 5, 9)
    result = due_at(start, 2 * H, NINE_TO_SIX_2026, [(sh(2026, 11, 5, 14), None)])
    assert result == DueTime(at=sh(2026, 11, 5, 11).astimezone(UTC))
    exactly_at_due = due_at(start, 2 * H, NINE_TO_SIX_2026, [(sh(2026, 11, 5, 11), None)])
    assert exactly_at_due.at == sh(2026, 11, 5, 11)


def test_an_open_pause_that_began_out_of_hours_is_still_paused():
    result = due_at(sh(2026, 11, 6, 17), 2 * H, NINE_TO_SIX_2026, [(sh(2026, 11, 6, 20), None)])
    assert result.paused


def test_a_resumed_pause_gives_the_due_time_back():
    start = sh(2026, 11, 5, 9)
    pauses = [(sh(2026, 11, 5, 10), sh(2026, 11, 9, 9))]  # waited on the owner until Monday 09:00
    assert due_at(start, 2 * H, NINE_TO_SIX_2026, pauses).at == sh(2026, 11, 9, 10)


def test_bad_pauses_are_refused():
    start = sh(2026, 11, 5, 9)
    with pytest.raises(ValueError, match="before it begins"):
        due_at(start, H, NINE_TO_SIX_2026, [(sh(2026, 11, 5, 11), sh(2026, 11, 5, 10))])
    with pytest.raises(ValueError, match="aware"):
        due_at(start, H, NINE_TO_SIX_2026, [(datetime(2026, 11, 5, 10), None)])


def test_due_time_invariant():
    with pytest.raises(ValueError, match="exactly when the clock is paused"):
        DueTime(at=None)
    with pytest.raises(ValueError, match="exactly when the clock is paused"):
        DueTime(at=sh(2026, 11, 5, 9), paused=True)


# --- elapsed fraction ("warn at 80 %") ---------------------------------------------------------


def test_elapsed_fraction_reaches_eighty_percent_in_working_time():
    start = sh(2026, 11, 5, 9)  # Thursday, 10 h target with 9–18 hours → due Fri 10:00
    assert elapsed_fraction(start, 10 * H, NINE_TO_SIX_2026, [], sh(2026, 11, 5, 17)) == pytest.approx(0.8)
    assert elapsed_fraction(start, 10 * H, NINE_TO_SIX_2026, [], sh(2026, 11, 5, 23)) == pytest.approx(0.9)
    assert elapsed_fraction(start, 10 * H, NINE_TO_SIX_2026, [], sh(2026, 11, 6, 10)) == 1.0
    assert elapsed_fraction(start, 10 * H, NINE_TO_SIX_2026, [], sh(2026, 11, 6, 14)) == pytest.approx(1.4)


def test_elapsed_fraction_with_pauses():
    start = sh(2026, 11, 5, 9)
    closed = [(sh(2026, 11, 5, 10), sh(2026, 11, 5, 12))]
    assert elapsed_fraction(start, 10 * H, NINE_TO_SIX_2026, closed, sh(2026, 11, 5, 17)) == pytest.approx(0.6)
    still_open = [(sh(2026, 11, 5, 10), None)]
    assert elapsed_fraction(start, 10 * H, NINE_TO_SIX_2026, still_open, sh(2026, 11, 6, 17)) == pytest.approx(0.1)


def test_elapsed_fraction_edges():
    start = sh(2026, 11, 5, 9)
    assert elapsed_fraction(start, H, NINE_TO_SIX_2026, [], sh(2026, 11, 5, 8)) == 0.0  # before the start
    assert elapsed_fraction(start, timedelta(0), NINE_TO_SIX_2026, [], start) == 1.0  # "immediately"
    with pytest.raises(ValueError, match="cannot be negative"):
        elapsed_fraction(start, -H, NINE_TO_SIX_2026, [], start)


# --- properties -------------------------------------------------------------------------------

# A Mon–Sat calendar and one with an evening shift up to midnight exercise other interval shapes.
MON_TO_SAT_2026 = chinese_office_hours_calendar([2026], OFFICE_HOURS, weekdays=range(6))
LONG_DAYS_2026 = chinese_office_hours_calendar([2026], ((time(8), time(12)), (time(14), time(0))))
CALENDARS = [ALWAYS, NINE_TO_SIX_2026, OFFICE_2026, MON_TO_SAT_2026, LONG_DAYS_2026]
BUSINESS_CALENDARS = CALENDARS[1:]

calendars_ = st.sampled_from(CALENDARS)
business_calendars = st.sampled_from(BUSINESS_CALENDARS)
# Mostly 2026 (holidays known), running into 2027 (unknown): Sept–Jan covers both and New Year.
instants = st.datetimes(
    min_value=datetime(2026, 9, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=120))
pause_lists = st.lists(
    st.tuples(
        st.timedeltas(min_value=-timedelta(days=2), max_value=timedelta(days=20)),  # offset from the start
        st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4))),  # length
    ),
    max_size=4,
)
closed_pause_lists = st.lists(
    st.tuples(
        st.timedeltas(min_value=-timedelta(days=2), max_value=timedelta(days=20)),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
    ),
    max_size=4,
)
PROPERTY = settings(max_examples=120, deadline=None)


def as_pauses(start, offsets):
    return [(start + offset, None if length is None else start + offset + length) for offset, length in offsets]


@PROPERTY
@given(calendars_, instants, durations, pause_lists)
def test_a_pause_never_makes_a_deadline_earlier(calendar, start, target, offsets):
    without = due_at(start, target, calendar)
    with_pauses = due_at(start, target, calendar, as_pauses(start, offsets))
    assert with_pauses.paused or with_pauses.at >= without.at


@PROPERTY
@given(calendars_, instants, instants, durations)
def test_due_time_is_monotonic_in_the_start(calendar, start_a, start_b, target):
    earlier, later = sorted([start_a, start_b])
    assert due(earlier, target, calendar).at <= due(later, target, calendar).at


@PROPERTY
@given(calendars_, instants, durations, durations, pause_lists)
def test_a_longer_target_is_never_due_earlier(calendar, start, a, b, offsets):
    pauses = as_pauses(start, offsets)
    shorter, longer = due_at(start, a, calendar, pauses), due_at(start, a + b, calendar, pauses)
    if shorter.paused:
        assert longer.paused
    elif not longer.paused:
        assert longer.at >= shorter.at


@PROPERTY
@given(calendars_, instants, durations, closed_pause_lists)
def test_service_time_between_inverts_due_at(calendar, start, target, offsets):
    pauses = as_pauses(start, offsets)
    result = due_at(start, target, calendar, pauses)
    assert service_time_between(start, result.at, calendar, pauses) == target
    assert elapsed_fraction(start, target, calendar, pauses, result.at) == 1.0


@st.composite
def working_instants(draw, calendar):
    """An instant inside the calendar's working time: somewhere in the interval after a random instant."""
    opening = due(draw(instants), timedelta(0), calendar).at  # the next working instant
    interval_end = next(end for begin, end in working_intervals(calendar, opening) if begin <= opening < end)
    span_us = (interval_end - opening) // timedelta(microseconds=1)
    return opening + timedelta(microseconds=draw(st.integers(0, span_us - 1)))


@PROPERTY
@given(st.data(), business_calendars, durations)
def test_inverse_from_a_start_inside_working_time(data, calendar, target):
    start = data.draw(working_instants(calendar))
    assert is_working_time(calendar, start)
    at = due(start, target, calendar).at
    assert at >= start + target  # service time never runs faster than the wall clock
    assert service_time_between(start, at, calendar) == target


@PROPERTY
@given(calendars_, instants, instants, instants)
def test_service_time_between_adds_up_and_never_exceeds_the_wall_clock(calendar, a, b, c):
    a, b, c = sorted([a, b, c])
    ab, bc = service_time_between(a, b, calendar), service_time_between(b, c, calendar)
    assert ab + bc == service_time_between(a, c, calendar)
    assert timedelta(0) <= ab <= b - a


@PROPERTY
@given(instants, durations, instants)
def test_seven_by_twenty_four_is_plain_addition(start, target, end):
    assert due(start, target, ALWAYS) == DueTime(at=start + target, provisional=False)
    assert service_time_between(start, end, ALWAYS) == end - start


@PROPERTY
@given(business_calendars, instants, durations)
def test_the_due_time_ends_working_time(calendar, start, target):
    at = due(start, target, calendar).at
    if target > timedelta(0):
        assert is_working_time(calendar, at - timedelta(microseconds=1))
    else:
        assert is_working_time(calendar, at)


@PROPERTY
@given(business_calendars, instants, durations)
def test_provisional_exactly_when_a_day_of_an_unknown_year_is_walked(calendar, start, target):
    result = due(start, target, calendar)
    # The last day walked is the one whose working time the target ends in (a due time of exactly
    # midnight ends the day before), or, for a zero target, the day of the due time itself.
    last_instant = result.at - timedelta(microseconds=1) if target else result.at
    first, last = local_date(start).year, local_date(last_instant).year
    assert result.provisional == any(year not in calendar.known_years for year in range(first, last + 1))


@PROPERTY
@given(business_calendars, st.dates(min_value=date(2026, 9, 1), max_value=date(2027, 1, 31)))
def test_no_working_interval_on_a_day_off(calendar, day):
    if day in calendar.days_off:
        assert working_intervals(calendar, day) == []


def test_a_very_long_pause_is_jumped_over_not_walked():
    start = sh(2026, 11, 5, 9)
    pauses = [(sh(2026, 11, 5, 10), datetime(9000, 1, 1, tzinfo=UTC))]  # e.g. a mistyped year
    result = due_at(start, 2 * H, NINE_TO_SIX_2026, pauses)  # returns at once
    # One hour before the pause; the pause ends at 08:00 Beijing on Wed 9000-01-01; one more hour.
    assert result == DueTime(at=datetime(9000, 1, 1, 10, tzinfo=SHANGHAI).astimezone(UTC), provisional=True)
    assert service_time_between(start, result.at, NINE_TO_SIX_2026, pauses) == 2 * H


def test_service_time_between_stops_at_the_end_day():
    # Mondays only, and every Monday from 2026-11-09 on is off: nothing to count after Nov 2, and the
    # walk must stop at the end's day rather than search (and give up on) the empty future.
    mondays_off = [date(2026, 11, 9) + timedelta(weeks=n) for n in range(120)]
    calendar = office_hours_calendar(NINE_TO_SIX, weekdays=[0], days_off=mondays_off, known_years=[2026])
    assert service_time_between(sh(2026, 11, 2, 9), sh(2026, 11, 20), calendar) == 9 * H
