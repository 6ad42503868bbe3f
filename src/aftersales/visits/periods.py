"""VIS-1 period arithmetic, pure (no ORM, no clock). Periods are calendar months or calendar quarters of the local
(Asia/Shanghai) calendar, named by their first day; a schedule's visit is due on a day of the period, clamped to the
month's end (day 31 is the last day of every month: Feb 28/29, Apr 30)."""

import calendar
from datetime import date, timedelta

MONTHLY, QUARTERLY = "monthly", "quarterly"
MONTHS = {MONTHLY: 1, QUARTERLY: 3}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to that month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start(day: date) -> date:
    return day.replace(day=1)


def period_start(cadence: str, day: date) -> date:
    """The first day of the month (monthly) or of the calendar quarter (quarterly) containing `day`."""
    if cadence == QUARTERLY:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return month_start(day)


def next_period(cadence: str, start: date) -> date:
    return add_months(start, MONTHS[cadence])


def period_end(cadence: str, start: date) -> date:
    return next_period(cadence, start) - timedelta(days=1)


def first_period_after(cadence: str, day: date) -> date:
    """The first period that starts after `day`."""
    start = period_start(cadence, day + timedelta(days=1))
    return start if start > day else next_period(cadence, start)


def due_on(cadence: str, start: date, *, day_of_month: int, month_of_quarter: int = 1) -> date:
    """The day a period's visit is due: `day_of_month` of the period's month (monthly) or of its
    `month_of_quarter`-th month (quarterly), clamped to the month's last day."""
    month = start if cadence == MONTHLY else add_months(start, month_of_quarter - 1)
    return month.replace(day=min(day_of_month, calendar.monthrange(month.year, month.month)[1]))


def periods_through(cadence: str, after: date, today: date) -> list[date]:
    """The starts of the periods that begin after `after` and no later than the period containing `today`."""
    starts, start = [], first_period_after(cadence, after)
    last = period_start(cadence, today)
    while start <= last:
        starts.append(start)
        start = next_period(cadence, start)
    return starts
