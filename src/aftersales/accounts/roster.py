"""ORG-2: pure on-call arithmetic. No ORM, no clock: callers pass the instant."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aftersales.core.clock import SHANGHAI


@dataclass(frozen=True)
class Shift:
    weekday: int | None  # 0 = Monday; None = every day
    start: time
    end: time  # end <= start: the shift ends on the next day (equal: 24 hours)
    valid_from: date
    valid_until: date | None = None


def _starts_on(shift: Shift, day: date) -> bool:
    if day < shift.valid_from or (shift.valid_until is not None and day > shift.valid_until):
        return False
    return shift.weekday is None or day.weekday() == shift.weekday


def covers(shift: Shift, at: datetime) -> bool:
    """Whether the shift is on at the aware instant `at` (start inclusive, end exclusive)."""
    local = at.astimezone(SHANGHAI)
    day, moment = local.date(), local.time().replace(tzinfo=None)
    if shift.start < shift.end:
        return _starts_on(shift, day) and shift.start <= moment < shift.end
    # Overnight (or 24 h): on from `start` on its day until `end` on the next day.
    if _starts_on(shift, day) and moment >= shift.start:
        return True
    return _starts_on(shift, day - timedelta(days=1)) and moment < shift.end
