"""SRQ-3: service-level arithmetic over a service calendar. Pure Python: no ORM, no clock.

The clock is a log (lessons.md #1): a target's start, its length and the pauses (time lost
because of the owner, e.g. waiting for the user) are stored; the due time is *derived* here and
can be recomputed whenever priority, contract or calendar change.

Conventions:

* All instants are aware datetimes (naive ones raise ValueError); results are in UTC.
* Working time is half-open per interval: with hours 09:00–18:00, 2 h started at 17:00 end at
  10:00 on the next working day, and 9 h started at 09:00 end at 18:00 the same day.
* **A start outside working time counts from the next working instant.** With a business calendar
  even a zero duration ("immediately") is therefore due at the next working instant (a request
  on Saturday is due "immediately" at Monday 09:00); with 7×24 it is due at the start itself.
* A due time is **provisional** when any Asia/Shanghai day walked from the start to the due time
  lies in a year without holiday data (see `aftersales.core.calendar_math`).
* Pauses are ``(paused_at, resumed_at)`` pairs; ``resumed_at`` None means still paused. Paused
  working time does not count. Overlapping pauses are merged; pauses or parts of pauses before
  the start are ignored.
* The walk goes day by day over working intervals, never minute by minute: a target spanning
  weeks costs a few dozen steps.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from aftersales.core.calendar_math import SHANGHAI, ServiceCalendar, local_date, working_day

Pause = tuple[datetime, datetime | None]

# A calendar that has no working time on this many consecutive days is treated as broken: the walk
# raises instead of searching forever (e.g. every working weekday listed as a day off).
MAX_DAYS_WITHOUT_WORKING_TIME = 400

_NEVER = datetime.max.replace(tzinfo=UTC)  # the end of a pause that has not ended


@dataclass(frozen=True)
class DueTime:
    """When a target falls due (SRQ-3).

    ``at``: aware UTC instant, or None while the clock is paused by an open pause that began
    before the target was used up: the due time is then unknown (it lies at least as far in the
    future as the pause lasts) and is recomputed when the pause ends. ``paused`` says so.
    ``provisional``: some day used on the way lies in a year without holiday data.
    """

    at: datetime | None
    provisional: bool = False
    paused: bool = False

    def __post_init__(self) -> None:
        if (self.at is None) != self.paused:
            raise ValueError("a due time is unknown (at=None) exactly when the clock is paused")


def add_service_time(start: datetime, duration: timedelta, calendar: ServiceCalendar) -> DueTime:
    """The instant at which ``duration`` of service time has elapsed after ``start`` (SRQ-3).

    7×24: plain addition. Business hours: counting begins at the next working instant and skips
    nights, weekends, days off; make-up days count. Zero duration: the next working instant.
    """
    return due_at(start, duration, calendar, pauses=())


def due_at(
    start: datetime,
    target: timedelta,
    calendar: ServiceCalendar,
    pauses: Sequence[Pause] = (),
) -> DueTime:
    """When ``target`` of unpaused service time after ``start`` is used up (SRQ-3).

    With an open pause (still waiting on the owner) that began before the target was used up,
    the due time is unknown: ``DueTime(at=None, paused=True)``. It is never reported earlier than
    without the pause. A target used up before the open pause began keeps its due time: a breach
    that happened stays a breach.
    """
    _require_aware(start, "start")
    if target < timedelta(0):
        raise ValueError(f"a target cannot be negative: {target}")
    remaining = target
    for span_start, span_end, provisional in _counted_spans(start, calendar, pauses):
        if span_end - span_start >= remaining:
            return DueTime(at=span_start + remaining, provisional=provisional)
        remaining -= span_end - span_start
    return DueTime(at=None, paused=True)


def service_time_between(
    start: datetime,
    end: datetime,
    calendar: ServiceCalendar,
    pauses: Sequence[Pause] = (),
) -> timedelta:
    """Unpaused working time elapsed from ``start`` to ``end`` (the inverse of `add_service_time`).

    Antisymmetric: if ``end`` is before ``start`` the result is negative.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end < start:
        return -service_time_between(end, start, calendar, pauses)
    elapsed = timedelta(0)
    for span_start, span_end, _ in _counted_spans(start, calendar, pauses, until=end):
        if span_start >= end:
            break
        elapsed += min(span_end, end) - span_start
    return elapsed


def elapsed_fraction(
    start: datetime,
    target: timedelta,
    calendar: ServiceCalendar,
    pauses: Sequence[Pause],
    now: datetime,
) -> float:
    """How much of the target is used at ``now``: 0.0 at the start, 1.0 when due, above 1 when late.

    For "warn before a target is missed" (SRQ-3), e.g. at 0.8. An open pause stops the count at
    its start. ``now`` before ``start`` gives 0.0. A zero target ("immediately") is always 1.0:
    it is due as soon as anything can happen.
    """
    if target < timedelta(0):
        raise ValueError(f"a target cannot be negative: {target}")
    if target == timedelta(0):
        return 1.0
    elapsed = service_time_between(start, now, calendar, pauses)
    return max(elapsed, timedelta(0)) / target


# --- a request's schedule ----------------------------------------------------------------------


def target_times(
    started_at: datetime, minutes: int, calendar: ServiceCalendar, pauses: Sequence[Pause], warn_fraction: float
) -> tuple[DueTime, DueTime]:
    """A target's due time and the time of its warning (``warn_fraction`` of the target, e.g. 0.8)."""
    due = due_at(started_at, timedelta(minutes=minutes), calendar, pauses)
    warn = due_at(started_at, timedelta(minutes=minutes * warn_fraction), calendar, pauses)
    return due, warn


def appointment_times(started_at: datetime, appointed_at: datetime, warn_fraction: float) -> tuple[DueTime, DueTime]:
    """A target agreed for a time (SRQ-6, "双方协商彼此方便的时间"): due at the appointment, on no calendar; warned
    when ``warn_fraction`` of the time from the agreement to the appointment has passed."""
    warn = started_at + (appointed_at - started_at) * warn_fraction if appointed_at > started_at else appointed_at
    return DueTime(appointed_at, False), DueTime(warn, False)


@dataclass(frozen=True)
class Schedule:
    """What a request stores about its open targets (SRQ-3, SRQ-5): the due time of each (None while paused),
    the earliest of them, whether any is provisional, and the next instant a warning or escalation step is due."""

    dues: dict[str, datetime | None]
    next_due_at: datetime | None
    next_check_at: datetime | None
    provisional: bool


def schedule(
    targets: Iterable,
    *,
    is_open: bool,
    ladder: Sequence[tuple[int, int]],
    warned: Collection[str],
    escalated: Collection[tuple[str, int]],
) -> Schedule:
    """Derive a request's schedule from its targets' stored times and the alerts already fired.

    ``targets``: objects with ``kind``, ``started_at``, ``met_at``, ``due_at``, ``warn_at``, ``provisional`` and
    ``breached_at`` (`aftersales.service.models.Target`). ``ladder``: the branch's escalation steps as
    ``(level, minutes after the miss)`` in level order. ``warned``: target kinds whose warning has fired;
    ``escalated``: ``(target kind, level)`` steps that have fired.

    The next check of an open target is its warning (until fired), then the first step of the ladder not fired
    yet, then — ladder exhausted — the miss itself until it is recorded. Met targets and closed requests have none.
    """
    dues: dict[str, datetime | None] = {}
    checks: list[datetime] = []
    provisional = False
    for target in targets:
        if target.started_at is None or target.met_at is not None or not is_open:
            continue
        provisional |= target.provisional
        dues[target.kind] = target.due_at
        if target.warn_at and target.kind not in warned:
            checks.append(target.warn_at)
        if target.due_at:
            for level, delay_minutes in ladder:
                if (target.kind, level) not in escalated:
                    checks.append(target.due_at + timedelta(minutes=delay_minutes))
                    break
            else:
                if target.breached_at is None:
                    checks.append(target.due_at)
    open_dues = [due for due in dues.values() if due is not None]
    return Schedule(dues=dues, next_due_at=min(open_dues) if open_dues else None,
                    next_check_at=min(checks) if checks else None, provisional=provisional)


# --- the walk -----------------------------------------------------------------------------------


def _require_aware(at: datetime, what: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got naive {at!r}")


def _merged_pauses(pauses: Sequence[Pause], start: datetime) -> list[tuple[datetime, datetime]]:
    """Pauses as sorted, disjoint UTC intervals from ``start`` on; an open pause ends at _NEVER."""
    intervals = []
    for paused_at, resumed_at in pauses:
        _require_aware(paused_at, "paused_at")
        if resumed_at is not None:
            _require_aware(resumed_at, "resumed_at")
            if resumed_at < paused_at:
                raise ValueError(f"a pause cannot end before it begins: {paused_at} → {resumed_at}")
        begin = max(paused_at, start).astimezone(UTC)
        end = _NEVER if resumed_at is None else resumed_at.astimezone(UTC)
        if end > begin:
            intervals.append((begin, end))
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _counted_spans(
    start: datetime,
    calendar: ServiceCalendar,
    pauses: Sequence[Pause],
    until: datetime | None = None,
) -> Iterator[tuple[datetime, datetime, bool]]:
    """Counted service time from ``start`` on: ``(span_start, span_end, provisional)`` in order, UTC.

    Working intervals of each Asia/Shanghai day, clipped to ``start``, minus the pauses; whole
    days inside a pause are jumped over. ``provisional`` is true once any day walked so far lies
    in a year without holiday data. Ends when an open pause has swallowed all later time, or
    after the day of ``until``.
    """
    start = start.astimezone(UTC)
    paused = _merged_pauses(pauses, start)
    last_day: date | None = local_date(until) if until is not None else None
    day = local_date(start)
    provisional = False
    days_without_working_time = 0
    while last_day is None or day <= last_day:
        pause = _pause_covering(paused, max(_midnight_utc(day), start))
        if pause is not None:
            if pause[1] == _NEVER:
                return  # an open pause has begun: no later time counts
            if local_date(pause[1]) > day:
                day = local_date(pause[1])  # jump over whole days of a long pause
                continue
        today = working_day(calendar, day)
        provisional = provisional or today.provisional
        if today.is_working:
            days_without_working_time = 0
        else:
            days_without_working_time += 1
            if days_without_working_time > MAX_DAYS_WITHOUT_WORKING_TIME:
                raise ValueError(
                    f"the calendar has no working time for {MAX_DAYS_WITHOUT_WORKING_TIME} days "
                    f"in a row (up to {day}); check its working hours and days off"
                )
        for interval_start, interval_end in today.intervals:
            span_start = max(interval_start.astimezone(UTC), start)
            span_end = interval_end.astimezone(UTC)
            for piece_start, piece_end in _without_pauses(span_start, span_end, paused):
                yield piece_start, piece_end, provisional
        day += timedelta(days=1)


def _without_pauses(
    span_start: datetime, span_end: datetime, paused: list[tuple[datetime, datetime]]
) -> Iterator[tuple[datetime, datetime]]:
    """The parts of ``[span_start, span_end)`` not covered by the (sorted, disjoint) pauses."""
    cursor = span_start
    for pause_start, pause_end in paused:
        if cursor >= span_end:
            return
        if pause_end <= cursor or pause_start >= span_end:
            continue
        if pause_start > cursor:
            yield cursor, pause_start
        cursor = max(cursor, pause_end)
    if cursor < span_end:
        yield cursor, span_end


def _pause_covering(
    paused: list[tuple[datetime, datetime]], instant: datetime
) -> tuple[datetime, datetime] | None:
    return next(((begin, end) for begin, end in paused if begin <= instant < end), None)


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).astimezone(UTC)
