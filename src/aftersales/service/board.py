"""Issue 21 §10: the dispatch board (派工看板), the pure part. No ORM, no clock: the view reads a few rows (engineers,
their shifts, their open requests) and passes the instant; `build()` lays them out as one line per engineer and one
cell per day, and says who is free now and who is on call tonight.

Where a request goes: into the day of its appointment (the agreed arrival `appointed_at`, else the reply's
`scheduled_for`) when that day is on the board; otherwise into today's cell, because it is work open now (overdue,
unscheduled, or scheduled after the board's last day). A request shows once.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from aftersales.accounts.roster import Shift
from aftersales.core.clock import SHANGHAI

from .models import State  # choices only: the module reads no rows

DAYS = 7  # today and the six days after it
NIGHT_STARTS, NIGHT_ENDS = time(18), time(8)  # "tonight": today 18:00 until tomorrow 08:00, Shanghai time

# The engineer's state now, from the states of their open requests (the first that applies).
FREE, ON_SITE, EN_ROUTE, BUSY = "free", "on_site", "en_route", "busy"


@dataclass(frozen=True)
class Engineer:
    pk: int
    name: str
    phone: str = ""


@dataclass(frozen=True)
class EngineerShift:
    user_id: int
    shift: Shift


@dataclass
class Assignment:
    """An open request assigned to an engineer, as the board shows it. `countdown` is filled in by the view (the
    badge of service/_countdown.html)."""

    pk: int
    number: str
    title: str
    state: str
    priority: str
    assignee_id: int
    next_due_at: datetime | None = None
    scheduled_for: datetime | None = None
    appointed_at: datetime | None = None
    extra: dict = field(default_factory=dict)  # what the view shows besides: customer, countdown …

    @property
    def appointment(self) -> datetime | None:
        """The time agreed with the customer: the arrival target's appointment, else the reply's schedule."""
        return self.appointed_at or self.scheduled_for


@dataclass(frozen=True)
class Span:
    """One shift on one day, in Shanghai wall-clock time (naive datetimes): from `start` (inclusive) to `end`."""

    start: datetime
    end: datetime

    @property
    def overnight(self) -> bool:
        return self.end.date() > self.start.date()

    @property
    def whole_day(self) -> bool:
        return self.end - self.start == timedelta(days=1) and self.start.time() == self.end.time()


@dataclass
class Cell:
    day: date
    shifts: list[Span] = field(default_factory=list)
    items: list[Assignment] = field(default_factory=list)
    # INS-*: inspection rounds go here once the inspections app has its model (issue 21 §10, "later"). The board
    # already has the place: the view passes none today, the template shows a marked empty slot.
    rounds: list = field(default_factory=list)


@dataclass
class Line:
    engineer: Engineer
    status: str
    open_count: int
    on_call_now: bool
    on_call_tonight: bool
    cells: list[Cell]


@dataclass
class Board:
    days: list[date]
    lines: list[Line]


def starts_on(shift: Shift, day: date) -> bool:
    """Whether a run of the shift starts on `day` (its weekday and its validity; accounts/roster.py's rule)."""
    if day < shift.valid_from or (shift.valid_until is not None and day > shift.valid_until):
        return False
    return shift.weekday is None or day.weekday() == shift.weekday


def span_on(shift: Shift, day: date) -> Span | None:
    """The run of the shift that starts on `day`, or None. End before or equal to start: it ends the next day."""
    if not starts_on(shift, day):
        return None
    start = datetime.combine(day, shift.start)
    end_day = day if shift.start < shift.end else day + timedelta(days=1)
    return Span(start, datetime.combine(end_day, shift.end))


def on_call_between(shifts: Iterable[Shift], start: datetime, end: datetime) -> bool:
    """Whether any run of the shifts overlaps [start, end) (naive Shanghai wall-clock times)."""
    day, last = start.date() - timedelta(days=1), end.date()  # a run that started the day before may still be on
    while day <= last:
        for shift in shifts:
            span = span_on(shift, day)
            if span and span.start < end and start < span.end:
                return True
        day += timedelta(days=1)
    return False


def local(moment: datetime) -> datetime:
    """An aware instant as a naive Shanghai wall-clock time."""
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def tonight(today: date) -> tuple[datetime, datetime]:
    return datetime.combine(today, NIGHT_STARTS), datetime.combine(today + timedelta(days=1), NIGHT_ENDS)


def status_of(states: Iterable[str]) -> str:
    states = set(states)
    if State.ON_SITE in states:
        return ON_SITE
    if State.EN_ROUTE in states:
        return EN_ROUTE
    return BUSY if states else FREE


def day_of(item: Assignment, days: list[date]) -> date:
    """The cell of a request: its appointment's day when that is on the board, else today (see the module)."""
    appointment = item.appointment
    if appointment is not None:
        wanted = local(appointment).date()
        if days[0] <= wanted <= days[-1]:
            return wanted
    return days[0]


def sort_key(item: Assignment):
    far = datetime.max.replace(tzinfo=SHANGHAI)
    return (item.appointment or far, item.next_due_at or far, item.pk)


def build(*, engineers: Iterable[Engineer], shifts: Iterable[EngineerShift], assignments: Iterable[Assignment],
          now: datetime, days: int = DAYS) -> Board:
    """One line per engineer (in the given order), one cell per day from today (Shanghai) on."""
    now_local = local(now)
    today = now_local.date()
    columns = [today + timedelta(days=n) for n in range(days)]
    shifts_of: dict[int, list[Shift]] = defaultdict(list)
    for row in shifts:
        shifts_of[row.user_id].append(row.shift)
    work_of: dict[int, list[Assignment]] = defaultdict(list)
    for item in assignments:
        work_of[item.assignee_id].append(item)
    night = tonight(today)
    lines = []
    for engineer in engineers:
        own_shifts, work = shifts_of.get(engineer.pk, []), sorted(work_of.get(engineer.pk, []), key=sort_key)
        cells = {day: Cell(day) for day in columns}
        for day, cell in cells.items():
            cell.shifts = sorted((s for s in (span_on(shift, day) for shift in own_shifts) if s), key=lambda s: s.start)
        for item in work:
            cells[day_of(item, columns)].items.append(item)
        lines.append(Line(
            engineer=engineer, status=status_of(item.state for item in work), open_count=len(work),
            on_call_now=on_call_between(own_shifts, now_local, now_local + timedelta(seconds=1)),
            on_call_tonight=on_call_between(own_shifts, *night),
            cells=[cells[day] for day in columns],
        ))
    return Board(days=columns, lines=lines)
