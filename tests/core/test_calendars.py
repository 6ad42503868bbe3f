"""SRQ-3: service calendars — Asia/Shanghai days, Chinese holidays and 调休, unknown years."""

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest

from aftersales.core import calendar_math as calendars
from aftersales.core.calendar_math import (
    NINE_TO_SIX,
    OFFICE_HOURS,
    SHANGHAI,
    ServiceCalendar,
    always_on_calendar,
    chinese_office_hours_calendar,
    holiday_days_from_chinese_calendar,
    is_provisional,
    is_working_day,
    is_working_time,
    local_date,
    missing_years,
    office_hours_calendar,
    working_day,
    working_intervals,
)

OFFICE_2026 = chinese_office_hours_calendar([2026], OFFICE_HOURS)
NINE_TO_SIX_2026 = chinese_office_hours_calendar([2026], NINE_TO_SIX)


def sh(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


# --- holiday data from chinese_calendar --------------------------------------------------------


def test_2026_national_day_from_chinese_calendar():
    days_off, make_up_days = holiday_days_from_chinese_calendar(2026)
    assert set(days(date(2026, 10, 1), date(2026, 10, 7))) <= days_off  # weekend days of the period too
    assert date(2026, 9, 20) in make_up_days  # Sunday, 调休上班
    assert date(2026, 10, 10) in make_up_days  # Saturday, 调休上班
    assert date(2026, 10, 8) not in days_off
    assert date(2026, 10, 11) not in days_off  # an ordinary Sunday is not a "day off" entry


def test_2026_make_up_days_are_exactly_the_official_ones():
    _, make_up_days = holiday_days_from_chinese_calendar(2026)
    assert make_up_days == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }


def test_2026_has_248_working_days():
    assert sum(is_working_day(OFFICE_2026, day) for day in days(date(2026, 1, 1), date(2026, 12, 31))) == 248


@pytest.mark.parametrize("year", [2003, 2027, 2030])
def test_unknown_year_gives_none_instead_of_raising(year):
    assert holiday_days_from_chinese_calendar(year) is None


def test_every_known_day_agrees_with_chinese_calendar():
    """2004–2026, day by day: our Mon–Fri calendar works exactly the days chinese_calendar does."""
    calendar = chinese_office_hours_calendar(range(2004, 2027))
    assert calendar.known_years == frozenset(range(2004, 2027))
    for day in days(date(2004, 1, 1), date(2026, 12, 31)):
        assert is_working_day(calendar, day) == chinese_calendar.is_workday(day), day


def test_chinese_office_hours_calendar_leaves_unknown_years_out():
    calendar = chinese_office_hours_calendar([2026, 2027])
    assert calendar.known_years == {2026}
    assert is_provisional(calendar, date(2027, 3, 1))
    assert not is_provisional(calendar, date(2026, 3, 1))


# --- Asia/Shanghai first -----------------------------------------------------------------------


def test_utc_evening_is_already_the_next_day_in_shanghai():
    evening_utc = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 2026-10-01 01:00 in Beijing
    assert local_date(evening_utc) == date(2026, 10, 1)
    assert not is_working_day(NINE_TO_SIX_2026, evening_utc)  # National Day
    assert working_intervals(NINE_TO_SIX_2026, evening_utc) == []
    # …while chinese_calendar itself, handed the aware datetime, would say "workday" (lessons.md #2).
    assert chinese_calendar.is_workday(evening_utc)


def test_utc_morning_is_the_same_day_in_shanghai():
    assert is_working_day(NINE_TO_SIX_2026, datetime(2026, 9, 30, 8, 0, tzinfo=UTC))  # 16:00 Beijing
    assert is_working_time(NINE_TO_SIX_2026, datetime(2026, 9, 30, 8, 0, tzinfo=UTC))
    assert not is_working_time(NINE_TO_SIX_2026, datetime(2026, 9, 30, 10, 0, tzinfo=UTC))  # 18:00


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        is_working_day(OFFICE_2026, datetime(2026, 9, 30, 17, 0))
    with pytest.raises(ValueError, match="aware"):
        is_working_time(OFFICE_2026, datetime(2026, 9, 30, 10, 0))


# --- working intervals -------------------------------------------------------------------------


def test_working_intervals_with_lunch_break():
    assert working_intervals(OFFICE_2026, date(2026, 11, 5)) == [
        (sh(2026, 11, 5, 9), sh(2026, 11, 5, 12)),
        (sh(2026, 11, 5, 13, 30), sh(2026, 11, 5, 18)),
    ]


@pytest.mark.parametrize(
    ("at", "working"),
    [
        (sh(2026, 11, 5, 8, 59, 59), False),
        (sh(2026, 11, 5, 9), True),  # start inclusive
        (sh(2026, 11, 5, 11, 59), True),
        (sh(2026, 11, 5, 12), False),  # lunch
        (sh(2026, 11, 5, 13, 29), False),
        (sh(2026, 11, 5, 13, 30), True),
        (sh(2026, 11, 5, 17, 59, 59, 999999), True),
        (sh(2026, 11, 5, 18), False),  # end exclusive
        (sh(2026, 11, 7, 10), False),  # Saturday
        (sh(2026, 10, 10, 10), True),  # Saturday, make-up day
        (sh(2026, 9, 20, 14), True),  # Sunday, make-up day
        (sh(2026, 10, 8, 12, 30), False),  # make-up/normal day lunch break still a gap
        (sh(2026, 10, 5, 10), False),  # Monday, National Day
    ],
)
def test_is_working_time(at, working):
    assert is_working_time(OFFICE_2026, at) == working


def test_make_up_day_uses_mondays_hours_by_default():
    sunday = working_intervals(OFFICE_2026, date(2026, 9, 20))
    assert [(start.time(), end.time()) for start, end in sunday] == list(OFFICE_2026.weekly_hours[0])


def test_make_up_day_can_have_its_own_hours():
    calendar = office_hours_calendar(
        make_up_days=[date(2026, 9, 20)], known_years=[2026], make_up_hours=((time(10), time(16)),)
    )
    assert working_intervals(calendar, date(2026, 9, 20)) == [(sh(2026, 9, 20, 10), sh(2026, 9, 20, 16))]


def test_interval_ending_at_midnight():
    calendar = office_hours_calendar(((time(8), time(0)),), weekdays=range(7), known_years=[2026])
    assert working_intervals(calendar, date(2026, 11, 5)) == [(sh(2026, 11, 5, 8), sh(2026, 11, 6, 0))]
    assert is_working_time(calendar, sh(2026, 11, 5, 23, 59, 59))
    assert not is_working_time(calendar, sh(2026, 11, 6, 0))
    assert not is_working_time(calendar, sh(2026, 11, 6, 7, 59))


def test_seven_by_twenty_four_ignores_holidays():
    calendar = always_on_calendar()
    assert working_intervals(calendar, date(2026, 10, 1)) == [(sh(2026, 10, 1), sh(2026, 10, 2))]
    assert is_working_time(calendar, datetime(2026, 9, 30, 17, tzinfo=UTC))
    assert not is_provisional(calendar, date(2031, 1, 1))


# --- unknown years: weekly pattern, provisional, never raising ---------------------------------


def test_unknown_year_falls_back_to_the_weekly_pattern():
    new_years_day_2027 = working_day(OFFICE_2026, date(2027, 1, 1))
    # 2027-01-01 is a Friday. Without 2027 data it is treated as an ordinary Friday — a working day —
    # and marked provisional, so due times computed from it are shown as provisional.
    assert new_years_day_2027.is_working
    assert new_years_day_2027.provisional
    saturday = working_day(OFFICE_2026, date(2027, 1, 2))
    assert not saturday.is_working
    assert saturday.provisional
    assert not working_day(OFFICE_2026, date(2026, 12, 31)).provisional


def test_explicit_days_in_an_unknown_year_are_honoured_but_still_provisional():
    calendar = office_hours_calendar(days_off=[date(2027, 1, 1)], known_years=[2026])
    day = working_day(calendar, date(2027, 1, 1))
    assert not day.is_working
    assert day.provisional


# --- missing years -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "known", "missing"),
    [
        (date(2026, 9, 30), {2026}, []),
        (date(2026, 10, 1), {2026}, [2027]),
        (date(2026, 12, 31), {2026}, [2027]),
        (date(2026, 10, 1), {2026, 2027}, []),
        (date(2027, 1, 1), {2026}, [2027]),  # the current year itself is unknown
        (date(2027, 11, 1), {2026}, [2027, 2028]),
        (date(2027, 11, 1), {2026, 2027}, [2028]),
    ],
)
def test_missing_years(today, known, missing):
    calendar = office_hours_calendar(known_years=known)
    assert missing_years(calendar, today) == missing


def test_seven_by_twenty_four_misses_no_year():
    assert missing_years(always_on_calendar(), date(2030, 12, 1)) == []


# --- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "at least one weekday"),
        ({"weekly_hours": {0: ()}}, "at least one weekday"),
        ({"weekly_hours": {7: NINE_TO_SIX}}, "weekday must be"),
        ({"weekly_hours": {0: ((time(18), time(9)),)}}, "ends before it starts"),
        ({"weekly_hours": {0: ((time(9), time(9)),)}}, "ends before it starts"),
        ({"weekly_hours": {0: ((time(9), time(12)), (time(11), time(18)))}}, "overlap"),
        ({"weekly_hours": {0: ((time(13), time(18)), (time(9), time(12)))}}, "sorted"),
        ({"weekly_hours": {0: ((time(9), time(0)), (time(10), time(11)))}}, "overlap"),
        ({"weekly_hours": {0: ((time(9, tzinfo=UTC), time(18)),)}}, "wall-clock"),
        ({"weekly_hours": {1: NINE_TO_SIX}, "make_up_days": {date(2026, 9, 20)}}, "make-up days need"),
        (
            {"weekly_hours": {0: NINE_TO_SIX}, "days_off": {date(2026, 9, 20)}, "make_up_days": {date(2026, 9, 20)}},
            "both",
        ),
    ],
)
def test_bad_calendars_are_refused_when_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ServiceCalendar(**kwargs)


def test_touching_intervals_are_allowed():
    calendar = ServiceCalendar(weekly_hours={0: ((time(9), time(12)), (time(12), time(18)))})
    assert len(working_intervals(calendar, date(2026, 11, 2))) == 2


def test_calendar_does_not_follow_later_edits_of_its_inputs():
    hours = {0: [(time(9), time(18))]}
    calendar = ServiceCalendar(weekly_hours=hours)
    hours[0].append((time(19), time(20)))
    hours[1] = NINE_TO_SIX
    assert calendar.weekly_hours == {0: ((time(9), time(18)),)}


def test_calendars_are_hashable_and_comparable():
    assert office_hours_calendar(known_years=[2026]) == office_hours_calendar(known_years=[2026])
    assert hash(always_on_calendar()) == hash(always_on_calendar())
    assert calendars.ServiceCalendar(always_on=True) == always_on_calendar()
