"""SRQ-3: service-time calendars. Pure Python: no ORM, no clock, no Django.

A contract's service runs either 7×24 or on a business-hours calendar that knows Chinese public
holidays (days off) and make-up working days (调休: a weekend day that is a working day).

Rules every function here keeps:

* **Days are Asia/Shanghai days.** An aware datetime is converted to Asia/Shanghai *before* its
  date is looked at: 2026-09-30 17:00 UTC is 2026-10-01 01:00 in Beijing, National Day, not a
  working day. Naive datetimes are refused (ValueError): their instant is unknowable.
* **Holiday data is data** (lessons.md #2). The calendar carries the days off, the make-up days
  and the years for which that list is complete (``known_years``). `holiday_days_from_chinese_calendar`
  seeds them from the ``chinese_calendar`` package, which knows 2004–2026 only.
* **An unknown year never raises.** A day in a year outside ``known_years`` follows the plain
  weekly pattern (e.g. Mon–Fri hours: 2027-01-01, a Friday, is a working day) and is marked
  *provisional*, so the due times computed from it can be shown as provisional and
  `missing_years` can tell administrators which year to fill in. Days listed explicitly in
  ``days_off``/``make_up_days`` are honoured in any year (an administrator may enter a closure day
  before the year's official list exists); the year stays provisional until it is in
  ``known_years``.
* **Working intervals are half-open**, ``[start, end)``: with hours 09:00–18:00, 18:00 is not
  working time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
MONDAY_TO_FRIDAY = (MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY)

# Working intervals of one day, in Asia/Shanghai wall-clock time, sorted, not overlapping.
# An end of time(0) means midnight at the end of the day (there is no time(24)).
DayHours = tuple[tuple[time, time], ...]
# One stretch of working time as aware datetimes, start inclusive, end exclusive.
Interval = tuple[datetime, datetime]

OFFICE_HOURS: DayHours = ((time(9), time(12)), (time(13, 30), time(18)))
NINE_TO_SIX: DayHours = ((time(9), time(18)),)


@dataclass(frozen=True)
class ServiceCalendar:
    """When the service clock runs (SRQ-3).

    ``always_on``: 7×24 service; every instant is working time and holidays do not matter
    (the other fields are then ignored).
    ``weekly_hours``: weekday (0 = Monday) → that day's working intervals in Asia/Shanghai time.
    ``days_off``: public holidays and closure days, not worked whatever the weekday.
    ``make_up_days``: 调休 days, worked with ``make_up_hours`` (default: Monday's hours).
    ``known_years``: years for which ``days_off``/``make_up_days`` are complete; any other year is
    computed from the weekly pattern and marked provisional.

    Construction validates the data and raises ValueError for a calendar that could never be
    worked (no working hours at all), for malformed intervals and for a day that is both off and
    a make-up day; bad calendar data is caught where it is built, never in the middle of a request.
    """

    always_on: bool = False
    weekly_hours: Mapping[int, DayHours] = field(default_factory=dict, hash=False)
    days_off: frozenset[date] = frozenset()
    make_up_days: frozenset[date] = frozenset()
    known_years: frozenset[int] = frozenset()
    make_up_hours: DayHours | None = None

    def __post_init__(self) -> None:
        # Normalise to immutable containers so a caller's later edits cannot change the calendar.
        weekly = {weekday: tuple(map(tuple, hours)) for weekday, hours in dict(self.weekly_hours).items()}
        object.__setattr__(self, "weekly_hours", weekly)
        object.__setattr__(self, "days_off", frozenset(self.days_off))
        object.__setattr__(self, "make_up_days", frozenset(self.make_up_days))
        object.__setattr__(self, "known_years", frozenset(self.known_years))
        if self.make_up_hours is not None:
            object.__setattr__(self, "make_up_hours", tuple(map(tuple, self.make_up_hours)))
        if self.always_on:
            return
        for weekday, hours in weekly.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) … 6 (Sunday), not {weekday!r}")
            _check_day_hours(hours, f"weekday {weekday}")
        if not any(weekly.values()):
            raise ValueError("a business-hours calendar needs working hours on at least one weekday")
        if self.make_up_hours is not None:
            _check_day_hours(self.make_up_hours, "make_up_hours")
        if self.make_up_days and not self.hours_on_make_up_days:
            raise ValueError("make-up days need working hours: set make_up_hours or Monday's hours")
        both = self.days_off & self.make_up_days
        if both:
            listed = ", ".join(str(day) for day in sorted(both))
            raise ValueError(f"a day cannot be both a day off and a make-up working day: {listed}")

    @property
    def hours_on_make_up_days(self) -> DayHours:
        if self.make_up_hours is not None:
            return self.make_up_hours
        return self.weekly_hours.get(MONDAY, ())


def _check_day_hours(hours: DayHours, what: str) -> None:
    previous_end: time | None = None
    for interval in hours:
        if len(interval) != 2:
            raise ValueError(f"{what}: an interval is a (start, end) pair, not {interval!r}")
        start, end = interval
        if not (isinstance(start, time) and isinstance(end, time)):
            raise ValueError(f"{what}: interval bounds must be datetime.time, not {interval!r}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{what}: interval times are Asia/Shanghai wall-clock times without tzinfo")
        if previous_end is not None and (previous_end == time(0) or start < previous_end):
            raise ValueError(f"{what}: intervals must be sorted and must not overlap")
        if end != time(0) and end <= start:
            raise ValueError(f"{what}: interval {start}–{end} ends before it starts (use time(0) for midnight)")
        previous_end = end


@dataclass(frozen=True)
class WorkingDay:
    """One Asia/Shanghai day of a calendar: its working intervals and whether they are a guess."""

    day: date
    intervals: tuple[Interval, ...]  # aware, in Asia/Shanghai, sorted
    provisional: bool  # the day's year has no holiday data: weekly pattern only

    @property
    def is_working(self) -> bool:
        return bool(self.intervals)


def local_date(at: datetime) -> date:
    """The Asia/Shanghai date of an aware instant (SRQ-3: convert first, then look the day up)."""
    return to_shanghai(at).date()


def to_shanghai(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {at!r}")
    return at.astimezone(SHANGHAI)


def _as_day(day: date | datetime) -> date:
    # datetime is a subclass of date: test for it first, and convert before taking the date.
    if isinstance(day, datetime):
        return local_date(day)
    return day


def is_provisional(calendar: ServiceCalendar, day: date | datetime) -> bool:
    """Whether the day's working time is a weekly-pattern guess (its year lacks holiday data)."""
    return not calendar.always_on and _as_day(day).year not in calendar.known_years


def _hours_on(calendar: ServiceCalendar, day: date) -> DayHours:
    if day in calendar.days_off:
        return ()
    if day in calendar.make_up_days:
        return calendar.hours_on_make_up_days
    return calendar.weekly_hours.get(day.weekday(), ())


def working_day(calendar: ServiceCalendar, day: date | datetime) -> WorkingDay:
    """The working intervals of an Asia/Shanghai day (a datetime is converted to Shanghai first)."""
    day = _as_day(day)
    if calendar.always_on:
        midnight = datetime.combine(day, time(0), tzinfo=SHANGHAI)
        return WorkingDay(day, ((midnight, _next_midnight(day)),), provisional=False)
    intervals = tuple(
        (
            datetime.combine(day, start, tzinfo=SHANGHAI),
            _next_midnight(day) if end == time(0) else datetime.combine(day, end, tzinfo=SHANGHAI),
        )
        for start, end in _hours_on(calendar, day)
    )
    return WorkingDay(day, intervals, provisional=is_provisional(calendar, day))


def _next_midnight(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def working_intervals(calendar: ServiceCalendar, day: date | datetime) -> list[Interval]:
    """Aware (Asia/Shanghai) ``[start, end)`` working intervals of the day; empty if not worked."""
    return list(working_day(calendar, day).intervals)


def is_working_day(calendar: ServiceCalendar, day: date | datetime) -> bool:
    """Whether the Asia/Shanghai day has any working time (a datetime is converted first)."""
    return working_day(calendar, day).is_working


def is_working_time(calendar: ServiceCalendar, at: datetime) -> bool:
    """Whether the aware instant lies inside a working interval (start inclusive, end exclusive)."""
    return any(start <= at < end for start, end in working_day(calendar, at).intervals)


# --- holiday data -------------------------------------------------------------------------------


def holiday_days_from_chinese_calendar(year: int) -> tuple[frozenset[date], frozenset[date]] | None:
    """``(days_off, make_up_days)`` of a year from the ``chinese_calendar`` package, or None.

    ``days_off``: every day of a public-holiday period that is not worked, weekend days inside the
    period included (they matter to a calendar with Saturday hours). ``make_up_days``: weekend days
    that are working days (调休上班). None when the package has no data for the year
    (1.11.0 knows 2004–2026 and raises NotImplementedError for any other year).
    """
    days_off: set[date] = set()
    make_up_days: set[date] = set()
    day = date(year, 1, 1)
    try:
        while day.year == year:
            is_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
            if is_holiday and (holiday_name is not None or day.weekday() < SATURDAY):
                days_off.add(day)
            elif not is_holiday and day.weekday() >= SATURDAY:
                make_up_days.add(day)
            day += timedelta(days=1)
    except NotImplementedError:
        return None
    return frozenset(days_off), frozenset(make_up_days)


def missing_years(calendar: ServiceCalendar, today: date) -> list[int]:
    """Years an administrator should fill in holiday data for (lessons.md #2).

    The current year if it is unknown, and from October on also next year if it is unknown
    (due times start crossing New Year then). Empty for 7×24 calendars, which ignore holidays.
    """
    if calendar.always_on:
        return []
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    return [year for year in wanted if year not in calendar.known_years]


# --- building calendars -------------------------------------------------------------------------


def always_on_calendar() -> ServiceCalendar:
    """The 7×24 calendar (SRQ-3's default): every instant counts, holidays included."""
    return ServiceCalendar(always_on=True)


def office_hours_calendar(
    hours: DayHours = OFFICE_HOURS,
    *,
    weekdays: Iterable[int] = MONDAY_TO_FRIDAY,
    days_off: Iterable[date] = (),
    make_up_days: Iterable[date] = (),
    known_years: Iterable[int] = (),
    make_up_hours: DayHours | None = None,
) -> ServiceCalendar:
    """A business-hours calendar: the same ``hours`` on each of ``weekdays`` (default Mon–Fri)."""
    return ServiceCalendar(
        weekly_hours={weekday: hours for weekday in weekdays},
        days_off=frozenset(days_off),
        make_up_days=frozenset(make_up_days),
        known_years=frozenset(known_years),
        make_up_hours=make_up_hours,
    )


def chinese_office_hours_calendar(
    years: Iterable[int],
    hours: DayHours = OFFICE_HOURS,
    *,
    weekdays: Iterable[int] = MONDAY_TO_FRIDAY,
) -> ServiceCalendar:
    """Office hours with the ``chinese_calendar`` holidays of ``years``.

    Years the package does not know are left out of ``known_years`` (their days are provisional).
    The real application builds its calendar from the administrators' editable holiday table;
    this helper is for seeding that table's defaults and for tests.
    """
    days_off: set[date] = set()
    make_up_days: set[date] = set()
    known: set[int] = set()
    for year in years:
        data = holiday_days_from_chinese_calendar(year)
        if data is None:
            continue
        days_off |= data[0]
        make_up_days |= data[1]
        known.add(year)
    return office_hours_calendar(
        hours, weekdays=weekdays, days_off=days_off, make_up_days=make_up_days, known_years=known
    )
