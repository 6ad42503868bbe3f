"""LOG-1 (issue 25 §2): the verbs on daily logs, the only writers of DailyLog, LogEntry and LogEvent.

Each verb is one transaction: it locks the day, compares the version its author saw (a stale one is a 409 with
nothing written), checks the input (the project and the linked requests and rounds must be visible to the author and
the links in the entry's project), writes, and records a LogEvent. Only the author writes their day. A submitted day
stays correctable by its author: the change is recorded with `after_submission` and the day's `corrected_at` moves
on, so a correction is never silent.

`suggestions(user, day)` reads what the system already knows of the engineer's day (visits arrived and left, work
orders written, inspection rounds started or completed) so that starting a day is a matter of ticking boxes."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.scoping import is_staff_member, visible
from aftersales.core.versioning import claim_version
from aftersales.customers.models import Project
from aftersales.inspections.models import InspectionRound
from aftersales.service.models import ServiceRequest, Visit, WorkOrder

from .models import MINUTES_PER_DAY, DailyLog, LogEntry, LogEvent, LogEventKind

MAX_ENTRIES_PER_DAY = 40
MAX_LINKS = 20
BACKFILL_DAYS = 366  # a day may be written late (after a trip), not more than a year back


@dataclass
class Suggestion:
    """An entry the system proposes for a day; the author keeps it or not. `key` identifies it in a form."""

    key: str
    project: Project
    what: str
    place: str = ""
    minutes: int = 30
    requests: list = field(default_factory=list)
    rounds: list = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ building blocks

def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day in Asia/Shanghai as a half-open range of aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=clock.SHANGHAI)
    return start, start + timedelta(days=1)


def check_day(day: date) -> None:
    today = clock.today()
    if day is None or day > today:
        raise DomainError(_("A log is written for today or a past day."), field="day")
    if day < today - timedelta(days=BACKFILL_DAYS):
        raise DomainError(_("This day is too far back to write a log for."), field="day")


def check_writer(user) -> None:
    if not is_staff_member(user):
        raise DomainError(_("Only our staff write daily logs."))


def check_author(log: DailyLog, user) -> None:
    if log.author_id != user.pk:
        raise DomainError(_("Only the author of a log changes it."))


def lock_day(log: DailyLog, version) -> DailyLog:
    log = DailyLog.objects.select_for_update().get(pk=log.pk)
    claim_version(log, version)
    return log


def event(log: DailyLog, kind: str, *, by, at, **data) -> LogEvent:
    return LogEvent.objects.create(log=log, kind=kind, at=at, actor=by, after_submission=log.is_submitted, data=data)


def mark_corrected(log: DailyLog, at) -> None:
    if log.is_submitted:
        log.corrected_at = at
        log.save(update_fields=["corrected_at", "updated_at"])


def clean_entry(*, by, project, what, place, minutes, requests, rounds) -> dict:
    """Validated fields of an entry: the project and every link visible to the author, every link in the project."""
    if project is None or not visible(Project.objects.filter(pk=project.pk), by).exists():
        raise DomainError(_("Choose a project you serve."), field="project")
    what = (what or "").strip()
    if not what:
        raise DomainError(_("Say what was done."), field="what")
    if len(what) > 4000:
        raise DomainError(_("At most 4000 characters."), field="what")
    place = (place or "").strip()[:200]
    if minutes is None or not 1 <= int(minutes) <= MINUTES_PER_DAY:
        raise DomainError(_("Time spent is between 1 and 1440 minutes."), field="minutes")
    request_ids = sorted({getattr(r, "pk", r) for r in requests or ()})
    round_ids = sorted({getattr(r, "pk", r) for r in rounds or ()})
    if len(request_ids) > MAX_LINKS or len(round_ids) > MAX_LINKS:
        raise DomainError(_("At most %(n)s links of each kind.") % {"n": MAX_LINKS}, field="requests")
    if request_ids:
        found = visible(ServiceRequest.objects.filter(pk__in=request_ids, project_id=project.pk), by).count()
        if found != len(request_ids):
            raise DomainError(_("Link only requests of this project."), field="requests")
    if round_ids:
        found = visible(InspectionRound.objects.filter(pk__in=round_ids, project_id=project.pk), by).count()
        if found != len(round_ids):
            raise DomainError(_("Link only inspection rounds of this project."), field="rounds")
    return {"project": project, "what": what, "place": place, "minutes": int(minutes),
            "request_ids": request_ids, "round_ids": round_ids}


def check_total(log: DailyLog, minutes: int, *, excluding: int | None = None) -> None:
    entries = log.entries.all() if excluding is None else log.entries.exclude(pk=excluding)
    total = entries.aggregate(total=Sum("minutes"))["total"] or 0
    if total + minutes > MINUTES_PER_DAY:
        raise DomainError(_("A day has 1440 minutes: this entry would make %(total)s.") % {"total": total + minutes},
                          field="minutes")


def write_entry(log: DailyLog, *, by, at, visible_to_customer: bool, cleaned: dict) -> LogEntry:
    if log.entries.count() >= MAX_ENTRIES_PER_DAY:
        raise DomainError(_("At most %(n)s entries a day.") % {"n": MAX_ENTRIES_PER_DAY})
    check_total(log, cleaned["minutes"])
    entry = LogEntry.objects.create(log=log, day=log.day, author_id=log.author_id, project=cleaned["project"],
                                    what=cleaned["what"], place=cleaned["place"], minutes=cleaned["minutes"],
                                    visible_to_customer=bool(visible_to_customer), created_at=at)
    entry.requests.set(cleaned["request_ids"])
    entry.rounds.set(cleaned["round_ids"])
    return entry


def describe(entry: LogEntry) -> dict:
    return {"entry": entry.pk, "project": entry.project_id, "what": entry.what, "place": entry.place,
            "minutes": entry.minutes, "visible_to_customer": entry.visible_to_customer}


# ------------------------------------------------------------------------------------------------ verbs

def start_day(*, by, day: date, keep=()) -> DailyLog:
    """Open `by`'s log of `day` (or return it when it exists), adding the kept suggestions as entries. Starting twice
    is harmless: an existing day gets only the suggestions kept again."""
    check_writer(by)
    check_day(day)
    now = clock.now()
    with transaction.atomic():
        log = DailyLog.objects.filter(author=by, day=day).first()
        if log is None:
            try:
                with transaction.atomic():
                    log = DailyLog.objects.create(author=by, day=day, branch_id=by.branch_id)
            except IntegrityError:  # someone (another tab) started it a moment ago
                log = DailyLog.objects.get(author=by, day=day)
            else:
                event(log, LogEventKind.STARTED, by=by, at=now)
        log = DailyLog.objects.select_for_update().get(pk=log.pk)
        for suggestion in keep:
            cleaned = clean_entry(by=by, project=suggestion.project, what=suggestion.what, place=suggestion.place,
                                  minutes=suggestion.minutes, requests=suggestion.requests, rounds=suggestion.rounds)
            entry = write_entry(log, by=by, at=now, visible_to_customer=False, cleaned=cleaned)
            event(log, LogEventKind.ENTRY_ADDED, by=by, at=now, suggested=suggestion.key, **describe(entry))
        if keep:
            mark_corrected(log, now)
            DailyLog.objects.filter(pk=log.pk).update(version=log.version + 1)
            log.version += 1
        return log


def add_entry(*, log: DailyLog, by, version: int, project, what: str, minutes: int, place: str = "",
              requests=(), rounds=(), visible_to_customer: bool = False) -> LogEntry:
    check_author(log, by)
    cleaned = clean_entry(by=by, project=project, what=what, place=place, minutes=minutes, requests=requests,
                          rounds=rounds)
    now = clock.now()
    with transaction.atomic():
        log = lock_day(log, version)
        entry = write_entry(log, by=by, at=now, visible_to_customer=visible_to_customer, cleaned=cleaned)
        event(log, LogEventKind.ENTRY_ADDED, by=by, at=now, **describe(entry))
        mark_corrected(log, now)
    return entry


def edit_entry(*, entry: LogEntry, by, version: int, project, what: str, minutes: int, place: str = "",
               requests=(), rounds=(), visible_to_customer: bool = False) -> LogEntry:
    log = entry.log
    check_author(log, by)
    cleaned = clean_entry(by=by, project=project, what=what, place=place, minutes=minutes, requests=requests,
                          rounds=rounds)
    now = clock.now()
    with transaction.atomic():
        log = lock_day(log, version)
        entry = LogEntry.objects.select_for_update().get(pk=entry.pk)
        before = describe(entry)
        check_total(log, cleaned["minutes"], excluding=entry.pk)
        entry.project, entry.what, entry.place, entry.minutes = (cleaned["project"], cleaned["what"],
                                                                 cleaned["place"], cleaned["minutes"])
        entry.visible_to_customer = bool(visible_to_customer)
        entry.save(update_fields=["project", "what", "place", "minutes", "visible_to_customer"])
        entry.requests.set(cleaned["request_ids"])
        entry.rounds.set(cleaned["round_ids"])
        after = describe(entry)
        changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        event(log, LogEventKind.ENTRY_CHANGED, by=by, at=now, entry=entry.pk, changes=changed)
        mark_corrected(log, now)
    return entry


def remove_entry(*, entry: LogEntry, by, version: int) -> None:
    log = entry.log
    check_author(log, by)
    now = clock.now()
    with transaction.atomic():
        log = lock_day(log, version)
        entry = LogEntry.objects.select_for_update().get(pk=entry.pk)
        removed = describe(entry)
        entry.delete()
        event(log, LogEventKind.ENTRY_REMOVED, by=by, at=now, **removed)
        mark_corrected(log, now)


def submit_day(*, log: DailyLog, by, version: int) -> DailyLog:
    """The author says the day is complete. A day without entries cannot be submitted; submitting twice is a 409."""
    check_author(log, by)
    now = clock.now()
    with transaction.atomic():
        log = lock_day(log, version)
        if log.is_submitted:
            raise IllegalTransition(_("This day is submitted already."))
        if not log.entries.exists():
            raise DomainError(_("Write at least one entry before submitting the day."))
        log.submitted_at = now
        log.save(update_fields=["submitted_at", "updated_at"])
        event(log, LogEventKind.SUBMITTED, by=by, at=now)
    return log


# ------------------------------------------------------------------------------------------------ suggestions

def suggestions(user, day: date) -> list[Suggestion]:
    """What the system knows of `user`'s `day`: one suggestion per request visited or worked on (visit times give the
    minutes), one per inspection round started or completed. Three queries whatever the data; requests already linked
    from the day's entries are left out."""
    start, end = day_bounds(day)
    linked_requests = set(LogEntry.requests.through.objects.filter(
        logentry__author_id=user.pk, logentry__day=day).values_list("servicerequest_id", flat=True))
    linked_rounds = set(LogEntry.rounds.through.objects.filter(
        logentry__author_id=user.pk, logentry__day=day).values_list("inspectionround_id", flat=True))
    by_request: dict[int, Suggestion] = {}
    visits = (Visit.objects.filter(engineer_id=user.pk, arrived_at__gte=start, arrived_at__lt=end)
              .select_related("request__project").order_by("arrived_at", "pk"))
    for visit in visits:
        request = visit.request
        if request.pk in linked_requests:
            continue
        minutes = 30
        if visit.left_at and visit.left_at > visit.arrived_at:
            minutes = max(1, min(MINUTES_PER_DAY, int((visit.left_at - visit.arrived_at).total_seconds() // 60)))
        arrived = visit.arrived_at.astimezone(clock.SHANGHAI)
        what = _("On site for %(number)s %(title)s (arrived %(time)s)") % {
            "number": request.number, "title": request.title, "time": f"{arrived:%H:%M}"}
        suggestion = by_request.get(request.pk)
        if suggestion is None:
            by_request[request.pk] = Suggestion(key=f"r{request.pk}", project=request.project, what=what,
                                                place=request.project.site_address[:200], minutes=minutes,
                                                requests=[request])
        else:
            suggestion.minutes = min(MINUTES_PER_DAY, suggestion.minutes + minutes)
    work_orders = (WorkOrder.objects.filter(engineer_id=user.pk, created_at__gte=start, created_at__lt=end)
                   .select_related("request__project").order_by("created_at", "pk"))
    for work_order in work_orders:
        request = work_order.request
        if request.pk in linked_requests:
            continue
        text = _("Work order for %(number)s: %(actions)s") % {"number": request.number,
                                                              "actions": work_order.actions.strip()[:300]}
        suggestion = by_request.get(request.pk)
        if suggestion is None:
            by_request[request.pk] = Suggestion(key=f"r{request.pk}", project=request.project, what=text,
                                                place=request.project.site_address[:200],
                                                minutes=max(1, min(MINUTES_PER_DAY, work_order.minutes_spent or 30)),
                                                requests=[request])
        else:
            suggestion.what = f"{suggestion.what}\n{text}"
    result = list(by_request.values())
    rounds = (InspectionRound.objects.filter(engineer_id=user.pk)
              .filter(Q(started_at__gte=start, started_at__lt=end) | Q(completed_at__gte=start, completed_at__lt=end))
              .select_related("project", "plan").order_by("pk"))
    for round_ in rounds:
        if round_.pk in linked_rounds:
            continue
        minutes = 60
        if round_.started_at and round_.completed_at and round_.completed_at > round_.started_at:
            minutes = max(1, min(MINUTES_PER_DAY, int((round_.completed_at - round_.started_at).total_seconds() // 60)))
        what = _("Inspection round %(plan)s (%(state)s)") % {"plan": round_.plan.name,
                                                             "state": round_.get_state_display()}
        result.append(Suggestion(key=f"i{round_.pk}", project=round_.project, what=what,
                                 place=round_.project.site_address[:200], minutes=minutes, rounds=[round_]))
    return result

