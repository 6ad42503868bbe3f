"""The SLA sweep (SRQ-5): warnings before a target is missed, the miss, and the escalation ladder, each exactly
once. The minute task and the exact-instant checks both land here; cost grows with what is due."""

from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils.translation import gettext as _

from aftersales.core import clock

from . import notices, sla
from .clock import ladder_for, schedule_check_after_commit, steps
from .models import (
    AlertKind,
    EventKind,
    ServiceRequest,
    SlaAlert,
    Target,
    TargetKind,
    TimelineEvent,
)
from .timeline import timeline_event

SWEEP_BATCH = 100  # requests per transaction


def due_request_ids(*, now, limit: int = 1000) -> list[int]:
    """Requests with a warning or escalation step due; an indexed range read (style.md §2)."""
    return list(ServiceRequest.objects.filter(next_check_at__lte=now).order_by("next_check_at")
                .values_list("pk", flat=True)[:limit])


def sweep(*, now=None) -> int:
    """The safety net: handle every request with something due, `SWEEP_BATCH` requests per transaction.
    Cost grows with what is due: a constant number of queries per batch."""
    now = now or clock.now()
    ids = due_request_ids(now=now)
    for start in range(0, len(ids), SWEEP_BATCH):
        handle_due_batch(ids[start:start + SWEEP_BATCH], now=now)
    return len(ids)


def handle_due(request_id: int, *, now=None) -> None:
    """The check scheduled at a request's exact warning or escalation instant (tasks.check_request)."""
    handle_due_batch([request_id], now=now or clock.now())


@transaction.atomic
def handle_due_batch(request_ids, *, now) -> None:
    """Warn before a target is missed, record the miss, and climb the branch's escalation ladder (SRQ-5).

    Exactly once, also with two workers: the requests are locked (PostgreSQL row locks; SQLite's write lock is
    taken at BEGIN) and only then are their alerts read; an alert is acted on only if its row was inserted here
    (`alert_exactly_once` stays the guarantee, lessons.md #3). A few bulk statements per batch, whatever its size."""
    requests = list(ServiceRequest.objects.select_for_update(of=("self",)).select_related("assignee")
                    .filter(pk__in=request_ids, next_check_at__lte=now).order_by("pk"))
    if not requests:
        return
    targets, fired = defaultdict(list), defaultdict(set)
    for target in Target.objects.filter(request__in=requests).order_by("request_id", "pk"):
        targets[target.request_id].append(target)
    for request_id, target, kind, level in SlaAlert.objects.filter(request__in=requests).order_by().values_list(
            "request_id", "target", "kind", "level"):
        fired[request_id].add((target, kind, level))
    ladders = {branch_id: ladder_for(branch_id) for branch_id in {request.branch_id for request in requests}}

    due = _due_steps(requests, targets, fired, ladders, now)
    inserted = _insert_alerts(due, requests, now)
    events, messages, breached = _tell(due, inserted, fired, now)
    if breached:
        Target.objects.filter(pk__in=breached).update(breached_at=F("due_at"))
    TimelineEvent.objects.bulk_create(events)
    notices.send_many(messages)

    for request in requests:  # the next check, from the stored due times and what has fired now
        plan = sla.schedule(targets[request.pk], is_open=request.is_open, ladder=steps(ladders[request.branch_id]),
                            warned={t for t, kind, _level in fired[request.pk] if kind == AlertKind.WARNING},
                            escalated={(t, level) for t, kind, level in fired[request.pk] if kind == AlertKind.ESCALATION})
        if plan.next_check_at and plan.next_check_at != request.next_check_at:
            schedule_check_after_commit(request.pk, plan.next_check_at)
        request.next_check_at = plan.next_check_at
    _save_checks(requests)


def _due_steps(requests, targets, fired, ladders, now) -> list[tuple]:
    """(request, target, alert kind, ladder step) of what is due, in the order the timeline tells it: per open
    target its warning, its miss (alert kind None), its escalation steps."""
    due = []
    for request in requests:
        if not request.is_open:
            continue
        for target in targets[request.pk]:
            if target.started_at is None or target.met_at is not None:
                continue
            if target.warn_at and target.warn_at <= now and (target.kind, AlertKind.WARNING, 0) not in fired[request.pk]:
                due.append((request, target, AlertKind.WARNING, None))
            if not target.due_at or target.due_at > now:
                continue
            if target.breached_at is None:
                due.append((request, target, None, None))
            for step in ladders[request.branch_id]:
                if target.due_at + timedelta(minutes=step.delay_minutes) > now:
                    break
                if (target.kind, AlertKind.ESCALATION, step.level) not in fired[request.pk]:
                    due.append((request, target, AlertKind.ESCALATION, step))
    return due


def _insert_alerts(due, requests, now) -> set[tuple]:
    """Insert the due alerts; return the keys (request id, target, kind, level) of those inserted by us."""
    alerts = [SlaAlert(request=request, target=target.kind, kind=kind, level=step.level if step else 0, fired_at=now)
              for request, target, kind, step in due if kind is not None]
    if not alerts:
        return set()
    SlaAlert.objects.bulk_create(alerts, ignore_conflicts=True)  # a fired one stays; ids are not returned: read back what is ours
    ours = SlaAlert.objects.filter(request__in=requests, fired_at=now).order_by()
    return {(a.request_id, a.target, a.kind, a.level) for a in alerts} & set(
        ours.values_list("request_id", "target", "kind", "level"))


def _tell(due, inserted, fired, now) -> tuple[list, list, list]:
    """The timeline events and outbox messages of the alerts inserted here, and the targets just missed."""
    events, messages, breached, urls = [], [], [], {}
    for request, target, kind, step in due:
        due_at = target.due_at.isoformat() if target.due_at else None
        if kind is None:
            target.breached_at = target.due_at
            breached.append(target.pk)
            events.append(timeline_event(request, EventKind.BREACHED, at=now, target=target.kind, due_at=due_at))
            continue
        level = step.level if step else 0
        fired[request.pk].add((target.kind, kind, level))  # its row exists now, inserted here or (rarely) elsewhere
        if (request.pk, target.kind, kind, level) not in inserted:
            continue
        if kind == AlertKind.WARNING and target.due_at is not None and now >= target.due_at:
            continue  # a warning after the miss is noise: its alert is recorded, nothing is said
        label = TargetKind(target.kind).label
        url = urls.get(request.pk) or urls.setdefault(request.pk, notices.url_of(request))
        if kind == AlertKind.WARNING:
            events.append(timeline_event(request, EventKind.WARNED, at=now, target=target.kind, due_at=due_at))
            messages.append(notices.message(
                "sla_warning", request, [request.assignee] + notices.desk(request),
                subject=_("%(number)s: “%(target)s” is about to be missed") % {"number": request.number, "target": label},
                body=request.title, dedupe_key=f"warn-{request.pk}-{target.kind}", url=url))
        else:
            request.escalation_level = max(request.escalation_level, level)
            recipients = notices.holders_of(step.position, request)
            events.append(timeline_event(request, EventKind.ESCALATED, at=now, target=target.kind, level=level,
                                         notified=[user.display_name for user in recipients]))
            messages.append(notices.message(
                "escalation", request, recipients,
                subject=_("Escalation level %(level)s: %(number)s missed “%(target)s”") % {
                    "level": level, "number": request.number, "target": label},
                body=request.title, dedupe_key=f"esc-{request.pk}-{target.kind}-{level}", url=url))
    return events, messages, breached


def _save_checks(requests) -> None:
    """Store the batch's next checks and escalation levels in one UPDATE, whatever the batch's size: a CASE per column
    over groups of equal values (the levels are a few; the next checks mostly differ), the change time as one value
    (bulk_update writes a CASE arm per row and column, two and a half times as slow). No signals, so no timeline
    lines: these are derived."""
    changed_at = clock.now()
    for request in requests:
        request.updated_at = changed_at
    ServiceRequest.objects.filter(pk__in=[request.pk for request in requests]).update(
        next_check_at=_case_by_value(requests, "next_check_at"),
        escalation_level=_case_by_value(requests, "escalation_level"), updated_at=changed_at)


def _case_by_value(requests, name: str) -> Case:
    ids_by_value = defaultdict(list)
    for request in requests:
        ids_by_value[getattr(request, name)].append(request.pk)
    field = ServiceRequest._meta.get_field(name)
    return Case(*(When(pk__in=ids, then=Value(value, output_field=field)) for value, ids in ids_by_value.items()),
                output_field=field)
