"""Build the pure `ServiceCalendar` from the calendar tables (SRQ-3, lessons.md #2)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction

from aftersales.core import calendar_math as cal
from aftersales.core.cache import WorkerCache

from .models import CalendarDay, DayKind, HolidayYear, WorkCalendar
from .signals import calendar_changed

# Built once per worker; a save or delete of a calendar, a calendar day or a known year clears it (core/cache.py).
_calendars = WorkerCache("service calendars", WorkCalendar, CalendarDay, HolidayYear)


def _parse_hours(raw: dict) -> dict[int, cal.DayHours]:
    hours = {}
    for weekday, intervals in (raw or {}).items():
        hours[int(weekday)] = tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in intervals)
    return hours


def _build(calendar: WorkCalendar) -> cal.ServiceCalendar:
    days_off, make_up = set(), set()
    rows = CalendarDay.objects.filter(calendar=calendar)
    if calendar.use_public_holidays:
        rows = rows | CalendarDay.objects.filter(calendar__isnull=True)
    for day, kind in rows.values_list("day", "kind"):
        (days_off if kind == DayKind.OFF else make_up).add(day)
    known = set(HolidayYear.objects.values_list("year", flat=True)) if calendar.use_public_holidays else set()
    return cal.ServiceCalendar(
        weekly_hours=_parse_hours(calendar.weekly_hours), days_off=frozenset(days_off - make_up),
        make_up_days=frozenset(make_up), known_years=frozenset(known),
    )


def service_calendar(calendar: WorkCalendar) -> cal.ServiceCalendar:
    if calendar.always_on:
        return cal.always_on_calendar()
    # With the row's updated_at in the key, a caller holding a calendar edited by another worker gets its new hours.
    return _calendars.get((calendar.pk, calendar.updated_at), lambda: _build(calendar))


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
    _calendars.clear()  # bulk_create sends no signals
    recompute_after_change(provisional_only=True)
    return True


def recompute_after_change(**scope) -> None:
    """After the change commits, move the due times of the open requests it can touch (clock.recompute_open_requests,
    in the worker)."""
    transaction.on_commit(lambda: calendar_changed.send(sender=WorkCalendar, **scope))


def calendar_day_changed(sender, instance, **kwargs) -> None:
    """A public day (every calendar) or one calendar's closure day: requests due from that day's start on."""
    since = datetime.combine(instance.day, time.min, tzinfo=ZoneInfo("Asia/Shanghai"))
    recompute_after_change(calendar_id=instance.calendar_id, since=since)


def holiday_year_changed(sender, instance, **kwargs) -> None:
    """A year became known: the due times computed without it were provisional."""
    recompute_after_change(provisional_only=True)


def work_calendar_changed(sender, instance, created=False, **kwargs) -> None:
    if not created:  # working hours or 7×24 changed: every open request on this calendar
        recompute_after_change(calendar_id=instance.pk)


def missing_years(today: date) -> list[int]:
    """Years administrators must fill in (from October the next year is due)."""
    known = set(HolidayYear.objects.values_list("year", flat=True))
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    return [year for year in wanted if year not in known]
