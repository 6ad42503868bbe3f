"""ORG-2: on-call shifts at their boundaries, in Asia/Shanghai wall-clock time."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from aftersales.accounts.roster import Shift, covers

SH = ZoneInfo("Asia/Shanghai")
FRIDAY_NIGHT = Shift(weekday=4, start=time(20), end=time(8), valid_from=date(2026, 1, 1))  # Fri 20:00 → Sat 08:00


def sh(*args):
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(
    ("at", "on"),
    [
        (sh(2026, 11, 27, 19, 59), False),  # Friday before the start
        (sh(2026, 11, 27, 20, 0), True),  # start is inclusive
        (sh(2026, 11, 27, 23, 59, 59), True),
        (sh(2026, 11, 28, 0, 0), True),  # midnight: Saturday now, still Friday's shift
        (sh(2026, 11, 28, 7, 59), True),
        (sh(2026, 11, 28, 8, 0), False),  # end is exclusive
        (sh(2026, 11, 28, 20, 0), False),  # Saturday evening is not Friday's
        (sh(2026, 11, 22, 0, 30), False),  # Sunday small hours follow Saturday, not Friday
    ],
)
def test_overnight_shift_crosses_midnight(at, on):
    assert covers(FRIDAY_NIGHT, at) is on


def test_instant_is_converted_to_shanghai_before_the_weekday_is_taken():
    utc_friday_noon = datetime(2026, 11, 27, 12, 0, tzinfo=ZoneInfo("UTC"))  # 20:00 Friday in Shanghai
    assert covers(FRIDAY_NIGHT, utc_friday_noon)


def test_24_hour_daily_shift_covers_every_instant():
    all_day = Shift(weekday=None, start=time(8), end=time(8), valid_from=date(2026, 1, 1))
    assert all(covers(all_day, sh(2026, 5, d, h)) for d in (1, 2, 3) for h in range(24))


def test_validity_applies_to_the_day_the_shift_starts():
    last_night = Shift(weekday=None, start=time(22), end=time(6), valid_from=date(2026, 1, 1), valid_until=date(2026, 1, 31))
    assert covers(last_night, sh(2026, 2, 1, 3, 0))  # started Jan 31
    assert not covers(last_night, sh(2026, 2, 1, 23, 0))  # Feb 1's shift does not exist
    assert not covers(last_night, sh(2026, 1, 1, 3, 0))  # Dec 31's shift does not exist


def test_day_shift_is_off_outside_its_hours():
    day = Shift(weekday=0, start=time(9), end=time(18), valid_from=date(2026, 1, 1))
    assert covers(day, sh(2026, 11, 23, 9, 0)) and not covers(day, sh(2026, 11, 23, 18, 0))
    assert not covers(day, sh(2026, 11, 24, 10, 0))  # a Tuesday
