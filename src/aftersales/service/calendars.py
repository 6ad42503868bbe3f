"""Build the pure `ServiceCalendar` from the calendar tables (SRQ-3, lessons.md #2)."""

from datetime import date, time

from aftersales.core import calendars as cal

from .models import CalendarDay, DayKind, HolidayYear, WorkCalendar

_cache: dict[int, tuple[tuple, cal.ServiceCalendar]] = {}


def _parse_hours(raw: dict) -> dict[int, cal.DayHours]:
    hours = {}
    for weekday, intervals in (raw or {}).items():
        hours[int(weekday)] = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in intervals)
    return hours


def _stamp(calendar: WorkCalendar) -> tuple:
    """Changes whenever the calendar or the public days change (cheap: two indexed aggregates)."""
    from django.db.models import Count, Max

    days = CalendarDay.objects.filter(calendar__isnull=True) | CalendarDay.objects.filter(calendar=calendar)
    agg = days.aggregate(n=Count("pk"), changed=Max("updated_at"))
    years = HolidayYear.objects.aggregate(n=Count("pk"), top=Max("year"))
    return (calendar.updated_at, agg["n"], agg["changed"], years["n"], years["top"])


def service_calendar(calendar: WorkCalendar) -> cal.ServiceCalendar:
    if calendar.always_on:
        return cal.always_on_calendar()
    stamp = _stamp(calendar)
    cached = _cache.get(calendar.pk)
    if cached and cached[0] == stamp:
        return cached[1]
    days_off, make_up = set(), set()
    rows = CalendarDay.objects.filter(calendar=calendar)
    if calendar.use_public_holidays:
        rows = rows | CalendarDay.objects.filter(calendar__isnull=True)
    for day, kind in rows.values_list("day", "kind"):
        (days_off if kind == DayKind.OFF else make_up).add(day)
    known = set(HolidayYear.objects.values_list("year", flat=True)) if calendar.use_public_holidays else set()
    built = cal.ServiceCalendar(
        weekly_hours=_parse_hours(calendar.weekly_hours), days_off=frozenset(days_off - make_up),
        make_up_days=frozenset(make_up), known_years=frozenset(known),
    )
    _cache[calendar.pk] = (stamp, built)
    return built


def import_public_year(year: int) -> bool:
    """Seed a year's public days off and make-up days from `chinese_calendar`; False if it has no data."""
    data = cal.holiday_days_from_chinese_calendar(year)
    if data is None:
        return False
    days_off, make_up = data
    existing = set(CalendarDay.objects.filter(calendar__isnull=True, day__year=year).values_list("day", flat=True))
    CalendarDay.objects.bulk_create(
        [CalendarDay(day=d, kind=DayKind.OFF, name="") for d in sorted(days_off - existing)]
        + [CalendarDay(day=d, kind=DayKind.MAKE_UP, name="") for d in sorted(make_up - existing)]
    )
    HolidayYear.objects.get_or_create(year=year, defaults={"source": "chinese-calendar"})
    return True


def missing_years(today: date) -> list[int]:
    """Years administrators must fill in (from October the next year is due)."""
    known = set(HolidayYear.objects.values_list("year", flat=True))
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    return [year for year in wanted if year not in known]
