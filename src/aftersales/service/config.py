"""Issue 21 §6, configuration people can do safely: the verbs and reads behind the configuration pages and the
/api/config/ API — work calendars (a year view, importing a year of public holidays, named days), the SLA policy of
each project with a preview of the due times, and each branch's escalation ladder.

Each verb is one transaction that writes its rows and their audit (django-auditlog: saves of registered models are
logged by auditlog itself, bulk writes and unregistered models by `LogEntry.objects.log_create`), and recomputes the
due times of the open requests a calendar change can touch before it returns (lessons.md #1, #2).

Who may do what: administrators everything; a department manager the ladder of their own branch and the policy of
their branch's projects (the scoping door decides which), and reads the calendars and policies. Calendars and the
policies' own promises (service/policy_config.py) are shared by every branch, so only administrators change them.
"""

import calendar as calendar_module
from dataclasses import dataclass
from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import chinese_calendar
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import Position
from aftersales.core import calendar_math as cal
from aftersales.core import clock as wall_clock
from aftersales.core.errors import DomainError
from aftersales.core.plausible import implausible_year_message, is_plausible, plausible_year

from . import clock, notices, sla
from .calendar_store import missing_years, service_calendar
from .models import (
    OPEN_STATES, CalendarDay, DayKind, EscalationRule, HolidayYear, Priority, ProjectPolicy, ServiceRequest, SlaPolicy,
    TargetKind, TargetStart, WorkCalendar,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_DELAY_MINUTES = 30 * 24 * 60  # a step a month after the miss is already no escalation
MAX_LEVELS = 9

# Permissions (model permissions, granted in accounts/roles.py)
VIEW_CALENDARS = "service.view_workcalendar"
CHANGE_CALENDARS = "service.change_workcalendar"
VIEW_POLICIES = "service.view_slapolicy"
CHANGE_POLICIES = "service.change_slapolicy"  # a policy's own promises (service/policy_config.py): administrators
CHANGE_PROJECT_POLICY = "service.change_projectpolicy"
VIEW_LADDERS = "service.view_escalationrule"
CHANGE_LADDERS = "service.change_escalationrule"
CONFIGURE = (CHANGE_CALENDARS, CHANGE_POLICIES, CHANGE_PROJECT_POLICY, CHANGE_LADDERS)

BUNDLED_SOURCE = f"chinese-calendar {getattr(chinese_calendar, '__version__', '')}".strip()
HAND_SOURCE = "entered by hand"


def may_configure(user) -> bool:
    return any(user.has_perm(perm) for perm in CONFIGURE)


def missing_holiday_years(today: date | None = None) -> list[int]:
    """The years whose public holidays must be filled in (this year; from October also the next)."""
    return missing_years(today or wall_clock.today())


def _audit(instance, action, by, changes: dict) -> None:
    """One audit line for a write auditlog does not see (a bulk insert, a model it does not register)."""
    LogEntry.objects.log_create(instance, action=action, changes=changes, actor=by if by and by.is_authenticated else None,
                                force_log=True)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


# =========================================================================================== calendars

@dataclass(frozen=True)
class YearDay:
    day: date
    kind: str  # DayKind value
    name: str
    closure: bool  # the calendar's own day (else the public calendar's)
    pk: int


def year_view(work_calendar: WorkCalendar | None, year: int) -> dict:
    """A year of a calendar (None: the public calendar): its days off, make-up working days and named days, with the
    calendar's own closures marked, month by month; and whether the year's public days are known."""
    if not plausible_year(year):
        raise DomainError(implausible_year_message(), field="year")
    rows = CalendarDay.objects.filter(day__year=year)
    if work_calendar is None:
        rows = rows.filter(calendar__isnull=True)
    elif work_calendar.use_public_holidays and not work_calendar.always_on:
        rows = rows.filter(calendar=work_calendar) | rows.filter(calendar__isnull=True)
    else:
        rows = rows.filter(calendar=work_calendar)
    by_day: dict[date, YearDay] = {}
    for row in rows.order_by("day", "calendar_id"):
        # a closure of this calendar overrides the public day of the same date
        if row.day not in by_day or row.calendar_id is not None:
            by_day[row.day] = YearDay(row.day, row.kind, row.name, row.calendar_id is not None, row.pk)
    months = []
    for month in range(1, 13):
        weeks = []
        for week in calendar_module.Calendar(firstweekday=0).monthdatescalendar(year, month):
            weeks.append([{"day": d, "in_month": d.month == month, "weekend": d.weekday() >= 5,
                           "entry": by_day.get(d)} for d in week])
        months.append({"month": month, "weeks": weeks,
                       "entries": [entry for d, entry in sorted(by_day.items()) if d.month == month]})
    known = HolidayYear.objects.filter(year=year).first()
    return {
        "year": year, "calendar": work_calendar, "months": months, "days": [by_day[d] for d in sorted(by_day)],
        "known": known is not None, "known_source": known.source if known else "",
        "bundled": year_is_bundled(year),
        "days_off": sum(1 for entry in by_day.values() if entry.kind == DayKind.OFF),
        "make_up_days": sum(1 for entry in by_day.values() if entry.kind == DayKind.MAKE_UP),
    }


def year_is_bundled(year: int) -> bool:
    """Whether the bundled chinese-calendar package knows the year (1.11.0: 2004–2026)."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except (NotImplementedError, ValueError, OverflowError):
        return False
    return True


def _holiday_names(year: int) -> dict[date, str]:
    """The Chinese name of each public holiday of the year, from the bundled package."""
    names = {}
    chinese = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
    day = date(year, 1, 1)
    while day.year == year:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if is_holiday and name:
            names[day] = chinese.get(name, name)
        elif not is_holiday and day.weekday() >= 5 and name:
            names[day] = f"{chinese.get(name, name)}调休上班"  # data, in the calendar's own language, like the names
        day = date.fromordinal(day.toordinal() + 1)
    return names


@dataclass(frozen=True)
class ImportResult:
    year: int
    days_off: int
    make_up_days: int
    added: int
    recomputed: int


@transaction.atomic
def import_public_year(*, year: int, by) -> ImportResult:
    """Import a year's public days off and make-up working days from the bundled chinese-calendar data, and record
    the year as known (HolidayYear) in the same action; days already entered are kept (an administrator's edits win),
    an empty name is filled in. Then the open requests' due times from that year on are recomputed."""
    if not plausible_year(year):
        raise DomainError(implausible_year_message(), field="year")
    data = cal.holiday_days_from_chinese_calendar(year)
    if data is None:
        raise DomainError(_("The bundled holiday data (chinese-calendar) has no days for {year}: it knows the years up to "
                            "{last}. Enter {year}'s days off and make-up working days by hand once the State Council "
                            "publishes them, then mark the year as complete.").format(year=year, last=last_bundled_year()),
                          field="year")
    days_off, make_up = data
    names = _holiday_names(year)
    existing = {row.day: row for row in CalendarDay.objects.select_for_update().filter(calendar__isnull=True, day__year=year)}
    new_rows = [CalendarDay(day=d, kind=DayKind.OFF, name=names.get(d, "")) for d in sorted(days_off - existing.keys())]
    new_rows += [CalendarDay(day=d, kind=DayKind.MAKE_UP, name=names.get(d, "")) for d in sorted(make_up - existing.keys())]
    CalendarDay.objects.bulk_create(new_rows)  # one INSERT; no signals: audited below, caches cleared by the year row
    for row in CalendarDay.objects.filter(calendar__isnull=True, day__in=[r.day for r in new_rows]):
        _audit(row, LogEntry.Action.CREATE, by, {"day": ["None", str(row.day)], "kind": ["None", row.kind],
                                                 "name": ["None", row.name]})
    named = [row for day, row in existing.items() if not row.name and names.get(day)]
    for row in named:
        row.name = names[row.day]
        _audit(row, LogEntry.Action.UPDATE, by, {"name": ["", row.name]})
    CalendarDay.objects.bulk_update(named, ["name"])  # names move no due time: no signal, no recompute per row
    known, created = HolidayYear.objects.get_or_create(year=year, defaults={"source": BUNDLED_SOURCE})
    if created:  # the year row's save clears every worker copy of the calendars (core/cache.py)
        _audit(known, LogEntry.Action.CREATE, by, {"year": ["None", str(year)], "source": ["None", known.source]})
    else:
        known.save()  # clears the copies all the same
    recomputed = clock.recompute_open_requests(since=_day_start(date(year, 1, 1)))
    return ImportResult(year=year, days_off=len(days_off), make_up_days=len(make_up), added=len(new_rows),
                        recomputed=recomputed)


def last_bundled_year() -> int:
    year = wall_clock.today().year + 1
    while year > 2004 and not year_is_bundled(year):
        year -= 1
    return year


@transaction.atomic
def mark_year_known(*, year: int, by) -> HolidayYear:
    """For a year the bundled data does not know: its days were entered by hand and are complete."""
    if not plausible_year(year):
        raise DomainError(implausible_year_message(), field="year")
    if not CalendarDay.objects.filter(calendar__isnull=True, day__year=year, kind=DayKind.OFF).exists():
        raise DomainError(_("No public day off of {year} is entered yet: enter them first.").format(year=year), field="year")
    known, created = HolidayYear.objects.get_or_create(year=year, defaults={"source": HAND_SOURCE})
    if created:
        _audit(known, LogEntry.Action.CREATE, by, {"year": ["None", str(year)], "source": ["None", known.source]})
        clock.recompute_open_requests(since=_day_start(date(year, 1, 1)))
    return known


@transaction.atomic
def save_day(*, work_calendar: WorkCalendar | None, day: date, kind: str, name: str, by) -> tuple[CalendarDay, int]:
    """Add a named day to a calendar (None: the public calendar), or rename / change the kind of the day already
    listed for that date. Audited by auditlog (CalendarDay is registered); the open requests due from that day on are
    recomputed. Returns the row and the number of requests recomputed."""
    if not isinstance(day, date) or not is_plausible(day):
        raise DomainError(implausible_year_message(), field="day")
    if kind not in DayKind.values:
        raise DomainError(_("A day is either a day off or a make-up working day."), field="kind")
    if work_calendar is not None and work_calendar.always_on:
        raise DomainError(_("A 7×24 calendar has no days off: it ignores every calendar day."), field="calendar")
    name = (name or "").strip()[:100]
    row = CalendarDay.objects.select_for_update().filter(calendar=work_calendar, day=day).first()
    if row is None:
        row = CalendarDay(calendar=work_calendar, day=day)
    row.kind, row.name = kind, name
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # the same day added at the same moment by someone else
        raise DomainError(_("This day is already in this calendar."), field="day") from None
    recomputed = clock.recompute_open_requests(calendar_id=work_calendar.pk if work_calendar else None,
                                               since=_day_start(day))
    return row, recomputed


@transaction.atomic
def remove_day(*, row: CalendarDay, by) -> int:
    """Remove a day from its calendar; the open requests due from that day on are recomputed."""
    calendar_id, day = row.calendar_id, row.day
    row.delete()
    return clock.recompute_open_requests(calendar_id=calendar_id, since=_day_start(day))


# =========================================================================================== policies

@dataclass(frozen=True)
class PreviewRow:
    priority: str
    priority_label: str
    kind: str
    kind_label: str
    minutes: int
    starts: str
    starts_label: str
    onsite_only: bool
    due_at: datetime
    warn_at: datetime
    provisional: bool
    condition: str  # when the clock starts, in words


def preview(policy: SlaPolicy, *, now: datetime | None = None) -> list[PreviewRow]:
    """"A serious request opened now would be due at …": every target of the policy as if the request were opened
    now and each later start event (the on-site decision, the arrival) happened now too. Pure arithmetic on the
    policy's calendar (service/sla.py); nothing is written."""
    now = now or wall_clock.now()
    calendar = service_calendar(policy.calendar)
    warn_fraction = policy.warn_at_percent / 100
    rows = []
    kind_order = list(TargetKind.values)
    for priority in Priority.values:
        rules = sorted(clock.rules_for(policy, priority).values(), key=lambda rule: kind_order.index(rule.kind))
        for rule in rules:
            due, warn = sla.target_times(now, rule.minutes, calendar, (), warn_fraction)
            if rule.starts == TargetStart.CREATED:
                condition = (_("if on-site service is decided; counted from the report") if rule.onsite_only
                             else _("counted from the report"))
            elif rule.starts == TargetStart.DISPATCHED:
                condition = _("counted from the on-site decision, or due at the appointment agreed with the customer")
            else:
                condition = _("counted from the engineer's arrival on site")
            rows.append(PreviewRow(
                priority=priority, priority_label=str(Priority(priority).label), kind=rule.kind,
                kind_label=str(TargetKind(rule.kind).label), minutes=rule.minutes, starts=rule.starts,
                starts_label=str(TargetStart(rule.starts).label), onsite_only=rule.onsite_only,
                due_at=due.at, warn_at=warn.at, provisional=due.provisional, condition=condition))
    return rows


def policy_of_project(project) -> tuple[SlaPolicy | None, bool]:
    """(the policy new requests of the project get, whether it is the project's own choice)."""
    own = ProjectPolicy.objects.select_related("policy__calendar").filter(project=project).first()
    if own is not None:
        return own.policy, True
    return SlaPolicy.objects.select_related("calendar").filter(is_default=True).first(), False


@transaction.atomic
def set_project_policy(*, project, policy: SlaPolicy | None, by) -> SlaPolicy | None:
    """The policy the project's contract promises (None: the default policy). New requests get it; open requests
    keep the policy they were opened with."""
    current = ProjectPolicy.objects.select_for_update().filter(project=project).first()
    before = str(current.policy) if current else "None"
    if policy is None:
        if current is not None:
            _audit(current, LogEntry.Action.DELETE, by, {"policy": [before, "None"]})
            current.delete()
        return None
    if current is None:
        current = ProjectPolicy.objects.create(project=project, policy=policy)
        _audit(current, LogEntry.Action.CREATE, by, {"project": ["None", str(project)], "policy": ["None", str(policy)]})
    elif current.policy_id != policy.pk:
        current.policy = policy
        current.save(update_fields=["policy"])
        _audit(current, LogEntry.Action.UPDATE, by, {"policy": [before, str(policy)]})
    return policy


# =========================================================================================== escalation ladders

DEFAULT_LADDER_NOTE = gettext_lazy(
    "A branch's own ladder replaces the default ladder completely: once a branch has a step of its own, the default "
    "steps no longer apply to its requests.")


@dataclass(frozen=True)
class LadderStep:
    pk: int | None
    level: int
    position: str
    position_label: str
    delay_minutes: int
    notifies: list  # users
    from_other_branches: bool  # nobody of the position in the branch: every holder is notified (notices.holders_of)


def who_is_notified(branch_id: int, position: str) -> tuple[list, bool]:
    """The users a step of `position` would notify today for a request of the branch — the resolution the notices
    use (notices.holders_of): the active holders in the branch, or, when the branch has none, every active holder."""
    recipients = notices.holders_of(position, SimpleNamespace(branch_id=branch_id))
    return recipients, any(user.branch_id != branch_id for user in recipients)


def ladder(branch) -> dict:
    """The ladder that applies to the branch's requests today: its own steps, or the default."""
    own = list(EscalationRule.objects.filter(branch=branch).order_by("level"))
    rules = own or clock.ladder_for(branch.pk)
    labels = dict(Position.choices)
    steps = []
    for rule in rules:
        recipients, elsewhere = who_is_notified(branch.pk, rule.position)
        steps.append(LadderStep(pk=rule.pk if own else None, level=rule.level, position=rule.position,
                                position_label=str(labels.get(rule.position, rule.position)),
                                delay_minutes=rule.delay_minutes, notifies=recipients, from_other_branches=elsewhere))
    return {"branch": branch, "own": bool(own), "steps": steps, "note": DEFAULT_LADDER_NOTE,
            "silent": [step.level for step in steps if not step.notifies]}


def ladder_for_display_default() -> list[dict]:
    """The default ladder (clock.DEFAULT_LADDER), which applies to every branch without steps of its own."""
    labels = dict(Position.choices)
    return [{"level": level, "position": position, "position_label": str(labels.get(position, position)),
             "delay_minutes": delay} for level, position, delay in clock.DEFAULT_LADDER]


def _check_step(branch, *, level, position, delay_minutes, step: EscalationRule | None) -> None:
    if position not in Position.values:
        raise DomainError(_("Choose one of the positions."), field="position")
    if not isinstance(level, int) or not 1 <= level <= MAX_LEVELS:
        raise DomainError(_("A level from 1 to {n}.").format(n=MAX_LEVELS), field="level")
    if not isinstance(delay_minutes, int) or not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        raise DomainError(_("From 0 to {n} minutes.").format(n=MAX_DELAY_MINUTES), field="delay_minutes")
    clash = EscalationRule.objects.filter(branch=branch, level=level)
    if step is not None:
        clash = clash.exclude(pk=step.pk)
    if clash.exists():
        raise DomainError(_("This branch's ladder has a step at this level already."), field="level")
    recipients, _elsewhere = who_is_notified(branch.pk, position)
    if not recipients:
        raise DomainError(_("Nobody holds the position “{position}” (no active user, in this branch or elsewhere): "
                            "this step would notify nobody, and escalation would silently stop here. Give someone the "
                            "position first, or choose another.").format(position=Position(position).label),
                          field="position")


def _reschedule_branch(branch) -> int:
    """The open requests of the branch plan their next escalation check from the ladder (sla.schedule): after a
    change of the ladder, plan them again, so a shorter delay is not noticed only at the old, later check."""
    ids = list(ServiceRequest.objects.filter(branch=branch, state__in=OPEN_STATES, next_check_at__isnull=False)
               .values_list("pk", flat=True))
    for request_id in ids:
        clock.recompute(ServiceRequest.objects.select_for_update().select_related("policy__calendar").get(pk=request_id))
    return len(ids)


def _lock_branch_ladder(branch) -> None:
    """One writer per branch ladder at a time (the level check reads, then writes)."""
    type(branch).objects.select_for_update().filter(pk=branch.pk).first()


@transaction.atomic
def save_step(*, branch, level: int, position: str, delay_minutes: int, by, step: EscalationRule | None = None
              ) -> EscalationRule:
    """Add a step to the branch's ladder, or change one. A step that would notify nobody is refused. Audited by
    auditlog (EscalationRule is registered); the worker copies of the ladders are cleared by the save."""
    _lock_branch_ladder(branch)
    _check_step(branch, level=level, position=position, delay_minutes=delay_minutes, step=step)
    step = step or EscalationRule(branch=branch)
    step.level, step.position, step.delay_minutes = level, position, delay_minutes
    step.save()
    _reschedule_branch(branch)
    return step


@transaction.atomic
def remove_step(*, step: EscalationRule, by) -> None:
    """Remove a step; the last one removed gives the branch the default ladder again."""
    _lock_branch_ladder(step.branch)
    step.delete()
    _reschedule_branch(step.branch)


@transaction.atomic
def copy_default_ladder(*, branch, by) -> list[EscalationRule]:
    """Give the branch its own ladder, starting as a copy of the default (each step checked like any other)."""
    _lock_branch_ladder(branch)
    if EscalationRule.objects.filter(branch=branch).exists():
        raise DomainError(_("This branch has a ladder of its own already."), field="branch")
    return [save_step(branch=branch, level=level, position=position, delay_minutes=delay, by=by)
            for level, position, delay in clock.DEFAULT_LADDER]


def position_holders(branch_id: int) -> dict[str, list]:
    """For the page's position choice: who holds each position in the branch (active staff)."""
    holders = {value: [] for value in Position.values}
    for user in (get_user_model().objects.filter(branch_id=branch_id, is_active=True, customer__isnull=True)
                 .exclude(position="").order_by("pk")):
        holders.setdefault(user.position, []).append(user)
    return holders
