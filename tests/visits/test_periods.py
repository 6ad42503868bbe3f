"""VIS-1: periods are calendar months or quarters (Asia/Shanghai); a visit is due on a day of the period, clamped to
the month's end, and the quarter's visit in the chosen month of the quarter."""

from datetime import date, datetime, timedelta

import pytest

from aftersales.core import clock
from aftersales.visits import periods, services
from aftersales.visits.models import ReturnVisit

MONTHLY, QUARTERLY = periods.MONTHLY, periods.QUARTERLY


@pytest.mark.parametrize(("start", "expected"), [
    (date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)), (date(2028, 2, 1), date(2028, 2, 29)),
    (date(2026, 4, 1), date(2026, 4, 30)), (date(2026, 12, 1), date(2026, 12, 31))])
def test_day_31_is_the_last_day_of_every_month(start, expected):
    assert periods.due_on(MONTHLY, start, day_of_month=31) == expected


def test_a_clamped_month_does_not_drag_the_next_ones_down():
    """Feb 28 is the end of February only: March is due on the 31st again (anchored, not chained)."""
    starts = periods.periods_through(MONTHLY, date(2026, 1, 31), date(2026, 4, 15))
    assert starts == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert [periods.due_on(MONTHLY, s, day_of_month=31) for s in starts] == [
        date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


@pytest.mark.parametrize(("day", "quarter_start"), [
    (date(2026, 1, 1), date(2026, 1, 1)), (date(2026, 3, 31), date(2026, 1, 1)), (date(2026, 4, 1), date(2026, 4, 1)),
    (date(2026, 11, 26), date(2026, 10, 1)), (date(2026, 12, 31), date(2026, 10, 1))])
def test_quarters_are_calendar_quarters_whatever_the_day(day, quarter_start):
    assert periods.period_start(QUARTERLY, day) == quarter_start
    assert periods.period_end(QUARTERLY, quarter_start) == periods.add_months(quarter_start, 3) - timedelta(days=1)


@pytest.mark.parametrize(("quarter", "month_of_quarter", "day", "expected"), [
    (date(2026, 10, 1), 1, 15, date(2026, 10, 15)), (date(2026, 10, 1), 3, 31, date(2026, 12, 31)),
    (date(2028, 1, 1), 2, 31, date(2028, 2, 29)), (date(2026, 4, 1), 3, 31, date(2026, 6, 30))])
def test_a_quarterly_visit_is_due_in_the_chosen_month_of_the_quarter(quarter, month_of_quarter, day, expected):
    assert periods.due_on(QUARTERLY, quarter, day_of_month=day, month_of_quarter=month_of_quarter) == expected


def shanghai(*args):
    return datetime(*args, tzinfo=clock.SHANGHAI)


def test_the_job_makes_the_month_end_visits_of_the_months_as_they_begin(frozen_clock, project_a, dispatcher):
    frozen_clock.move_to(shanghai(2026, 1, 15, 9))
    schedule = services.create_schedule(by=dispatcher, project=project_a, cadence=MONTHLY, day_of_month=31)
    frozen_clock.move_to(shanghai(2026, 3, 1, 0, 30))  # half past midnight in Shanghai: still Feb 28 in UTC
    services.generate_due_visits()
    assert list(ReturnVisit.objects.filter(schedule=schedule).order_by("due_on").values_list("period_start", "due_on")) \
        == [(date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)),
            (date(2026, 3, 1), date(2026, 3, 31))]


def test_the_job_makes_one_visit_per_quarter_anchored_to_the_calendar_quarter(frozen_clock, project_a, dispatcher):
    frozen_clock.move_to(shanghai(2026, 11, 26, 10))
    schedule = services.create_schedule(by=dispatcher, project=project_a, cadence=QUARTERLY, month_of_quarter=3,
                                        day_of_month=31)
    for day in (shanghai(2026, 12, 31, 23), shanghai(2027, 1, 1, 0, 5), shanghai(2027, 2, 10, 8)):
        frozen_clock.move_to(day)
        services.generate_due_visits()
    assert list(ReturnVisit.objects.filter(schedule=schedule).order_by("due_on").values_list("period_start", "due_on")) \
        == [(date(2026, 10, 1), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 3, 31))]


def test_a_period_whose_day_falls_before_the_schedule_starts_has_no_visit(frozen_clock, project_a, dispatcher):
    schedule = services.create_schedule(by=dispatcher, project=project_a, cadence=MONTHLY, day_of_month=5,
                                        starts_on=date(2026, 11, 20))
    assert not ReturnVisit.objects.filter(schedule=schedule).exists()  # Nov 5 is before the start
    frozen_clock.move_to(shanghai(2026, 12, 1, 8))
    services.generate_due_visits()
    assert list(ReturnVisit.objects.filter(schedule=schedule).values_list("due_on", flat=True)) == [date(2026, 12, 5)]
