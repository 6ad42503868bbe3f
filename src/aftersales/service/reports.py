"""RPT-1 (part): the local, half-open report period, used by the reports (reports/figures.py computes them) and
the monthly proof of service.

A month is [1st 00:00, next 1st 00:00) in Asia/Shanghai: a request at 23:30 on the last day belongs to that month.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        zone = ZoneInfo(settings.TIME_ZONE)
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        return cls(start, end)

    @classmethod
    def year(cls, year: int) -> "Period":
        zone = ZoneInfo(settings.TIME_ZONE)
        return cls(datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone))

    @classmethod
    def containing(cls, day: date) -> "Period":
        return cls.month(day.year, day.month)

    @classmethod
    def days(cls, first: date, last: date) -> "Period":
        """From `first` 00:00 to the end of `last` (inclusive dates), local time."""
        zone = ZoneInfo(settings.TIME_ZONE)
        after = last + timedelta(days=1)
        return cls(datetime(first.year, first.month, first.day, tzinfo=zone),
                   datetime(after.year, after.month, after.day, tzinfo=zone))
