"""LOG-3: the answer's deadline is a pure function of the submission time and the window's start: a day before the
window, never sooner than 2 hours (the SLA reply promise) after the notice arrived; "due soon" an hour before it."""

from datetime import datetime, timedelta

import pytest

from aftersales.changes.deadlines import answer_due_at, answered_in_time, due_soon_at
from aftersales.core.clock import SHANGHAI


def t(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("submitted", "window", "due"), [
    (t(2, 10), t(9, 22), t(8, 22)),            # a week ahead: a day before the window
    (t(2, 10), t(3, 13), t(2, 13)),            # 27 hours ahead: a day before the window is 3 hours away
    (t(2, 10), t(3, 11), t(2, 12)),            # 25 hours ahead: a day before would be 1 hour away: 2 hours, not less
    (t(2, 10), t(2, 20), t(2, 12)),            # the same evening: 2 hours after it arrived
    (t(2, 10), t(2, 11), t(2, 12)),            # within the hour: still 2 hours, after the window opens
])
def test_answer_is_due_a_day_before_the_window_but_never_sooner_than_two_hours(submitted, window, due):
    assert answer_due_at(submitted, window) == due


def test_the_rule_takes_other_lead_times():
    assert answer_due_at(t(2, 10), t(9, 22), lead=timedelta(days=3), minimum=timedelta(hours=4)) == t(6, 22)


@pytest.mark.parametrize(("submitted", "due", "warn"), [
    (t(2, 10), t(8, 22), t(8, 21)),   # an hour before the deadline
    (t(2, 10), t(2, 12), t(2, 11)),   # the 2-hour minimum: an hour before
    (t(2, 10), t(2, 10, 30), t(2, 10)),  # never before the notice arrived
])
def test_due_soon_is_an_hour_before_the_deadline_and_never_before_submission(submitted, due, warn):
    assert due_soon_at(submitted, due) == warn


def test_answered_in_time_compares_with_the_deadline():
    assert answered_in_time(t(8, 22), None) is None
    assert answered_in_time(t(8, 22), t(8, 22)) is True
    assert answered_in_time(t(8, 22), t(8, 22, 1)) is False
