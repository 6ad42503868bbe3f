"""ORG-2: who is on duty for a branch and specialty at a given instant."""

from datetime import datetime

from django.db.models import QuerySet

from . import roster
from .models import OnCallShift, User


def as_shift(row: OnCallShift) -> roster.Shift:
    return roster.Shift(row.weekday, row.start_time, row.end_time, row.valid_from, row.valid_until)


def on_duty(shifts: QuerySet, *, at: datetime, branch=None, specialty: str | None = None) -> list[User]:
    """The users on duty at `at`. Shifts are few per branch; the recurring rule is evaluated in Python."""
    if branch is not None:
        shifts = shifts.filter(branch=branch)
    if specialty:
        shifts = shifts.filter(specialty=specialty)
    users = {}
    for shift in shifts.select_related("user", "branch"):
        if roster.covers(as_shift(shift), at) and shift.user.is_active:
            users.setdefault(shift.user.pk, shift.user)
    return list(users.values())


def on_duty_shifts(shifts: QuerySet, *, at: datetime) -> list[OnCallShift]:
    return [s for s in shifts.select_related("user", "branch") if roster.covers(as_shift(s), at)]
