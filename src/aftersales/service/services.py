"""SRQ verbs. Each is one transaction, moves the state machine, writes the timeline and the outbox."""

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from math import asin, cos, radians, sin, sqrt

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from aftersales.core import audit, clock
from aftersales.core.cache import WorkerCache
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.inserts import Insert, Update

from . import notices, sla
from .calendar_store import service_calendar
from .models import (
    ALLOWED, OPEN_STATES, AlertKind, EscalationRule, EventKind, Pause, Priority, ProjectPolicy, ServiceMode,
    ServiceRequest, SlaAlert, SlaPolicy, SlaTargetRule, State, Target, TargetKind, TargetStart, TimelineEvent, Visit,
    WorkCalendar, WorkOrder, WorkOrderState, WorkResult,
)

FAR_FROM_SITE_M = 1000  # an arrival position further than this from the site is flagged
DEFAULT_LADDER = [(1, "department_manager", 0), (2, "general_manager", 60)]


# ------------------------------------------------------------------------------------------- helpers

def timeline_event(request, kind, *, actor=None, at=None, text="", **data) -> TimelineEvent:
    """An unsaved timeline line (for bulk writers); `record` writes one."""
    return TimelineEvent(request=request, kind=kind, at=at or clock.now(), actor=actor, text=text, data=data)


_insert_events = Insert(TimelineEvent)  # no signal listens to timeline events; saved on every verb


def record(request, kind, *, actor=None, at=None, text="", **data) -> TimelineEvent:
    event = timeline_event(request, kind, actor=actor, at=at, text=text, **data)
    _insert_events([event])
    getattr(request, "_prefetched_objects_cache", {}).pop("events", None)  # a timeline kept by open_request is stale now
    return event


def claim_version(obj, expected: int | None) -> None:
    """Compare-and-set: the first writer wins, the second gets a 409 (same code on SQLite and PostgreSQL)."""
    if expected is None:
        expected = obj.version
    if not type(obj).objects.filter(pk=obj.pk, version=expected).update(version=F("version") + 1):
        raise StaleObject()
    obj.version = expected + 1


def move(request, to: str) -> None:
    if to not in ALLOWED[request.state]:
        raise IllegalTransition(
            _("A request that is “%(current)s” cannot become “%(target)s”.")
            % {"current": State(request.state).label, "target": State(to).label}
        )
    request.state = to


# ------------------------------------------------------------------------------------------- per-worker copies
# SLA policies with their rules and calendars, and the escalation ladders, change rarely and are read by every
# create and every sweep: each worker keeps a copy, cleared by a change in the same process and re-read by the
# others within core.cache.TTL seconds (see core/cache.py for why that is enough).

_policies = WorkerCache("sla policies", SlaPolicy, SlaTargetRule, ProjectPolicy, WorkCalendar)
_ladders = WorkerCache("escalation ladders", EscalationRule)


@dataclass(frozen=True)
class _PolicyTable:
    policies: dict  # pk → SlaPolicy (with its calendar)
    rules: dict  # (policy pk, priority) → {target kind: SlaTargetRule}, kinds in the rules' order
    by_project: dict  # project pk → policy pk
    default: SlaPolicy | None


def _policy_table() -> _PolicyTable:
    def load():
        policies = {policy.pk: policy for policy in SlaPolicy.objects.select_related("calendar")}
        rules = defaultdict(dict)
        for rule in SlaTargetRule.objects.all():
            rules[(rule.policy_id, rule.priority)][rule.kind] = rule
        return _PolicyTable(policies=policies, rules=dict(rules),
                            by_project=dict(ProjectPolicy.objects.values_list("project_id", "policy_id")),
                            default=next((policy for policy in policies.values() if policy.is_default), None))

    return _policies.get("all", load)


def policy_for(project) -> SlaPolicy:
    table = _policy_table()
    policy = table.policies.get(table.by_project.get(project.pk)) or table.default
    if policy is None:
        raise DomainError(_("No SLA policy is configured. An administrator must create a default policy."))
    return policy


def great_circle_m(lat1, lon1, lat2, lon2) -> float:
    """Haversine distance in metres."""
    lat1, lon1, lat2, lon2 = (radians(float(v)) for v in (lat1, lon1, lat2, lon2))
    a = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))


# ------------------------------------------------------------------------------------------- the clock

def _rules(policy, priority) -> dict:
    return dict(_policy_table().rules.get((policy.pk, priority), {}))


def _starting(policy, priority, *, onsite: bool, event: str, at, created_at):
    """(rule, start) of every target whose rule counts from `event` (created / dispatched / arrived).
    On-site-only targets start when the request goes on site (dispatch); those counted from the
    report then start at the request's creation, so a late dispatch cannot hide a late departure."""
    for rule in _rules(policy, priority).values():
        if rule.onsite_only:
            if not onsite or event == TargetStart.CREATED:
                continue
            if event == TargetStart.DISPATCHED and rule.starts == TargetStart.CREATED:
                yield rule, created_at
            elif rule.starts == event:
                yield rule, at
        elif rule.starts == event:
            yield rule, at


def _start_targets(request, *, event: str, at) -> None:
    for rule, started in _starting(request.policy, request.priority, onsite=request.service_mode == ServiceMode.ONSITE,
                                   event=event, at=at, created_at=request.created_at):
        Target.objects.update_or_create(
            request=request, kind=rule.kind, defaults={"minutes": rule.minutes, "started_at": started, "met_at": None},
        )


def ladder_for(branch_id: int) -> list[EscalationRule]:
    """The branch's ladder, or the seed's default: department manager at the miss, general manager an hour later."""
    def load():
        ladders = defaultdict(list)
        for rule in EscalationRule.objects.order_by("branch_id", "level"):
            ladders[rule.branch_id].append(rule)
        return dict(ladders)

    rules = _ladders.get("all", load).get(branch_id)
    return list(rules) if rules else [EscalationRule(branch_id=branch_id, level=level, position=position, delay_minutes=delay)
                                      for level, position, delay in DEFAULT_LADDER]


def _steps(ladder) -> list[tuple[int, int]]:
    return [(step.level, step.delay_minutes) for step in ladder]


def _meet(request, kind: str, at) -> None:
    Target.objects.filter(request=request, kind=kind, met_at__isnull=True, started_at__isnull=False).update(met_at=at)


def recompute(request, *, now=None) -> None:
    """Derive every due time from the clock log and store them on the request (lessons.md #1).
    The stored times are derived data: written with plain UPDATEs, so they add nothing to the audit log."""
    calendar = service_calendar(request.policy.calendar)
    pauses = list(request.pauses.values_list("started_at", "ended_at"))
    warn_fraction = request.policy.warn_at_percent / 100
    targets = list(request.targets.all())
    changed = []
    for target in targets:
        if target.started_at is None:
            continue
        due, warn = sla.target_times(target.started_at, target.minutes, calendar, pauses, warn_fraction)
        if (target.due_at, target.warn_at, target.provisional) != (due.at, warn.at, due.provisional):
            target.due_at, target.warn_at, target.provisional = due.at, warn.at, due.provisional
            changed.append(target)
    if changed:
        Target.objects.bulk_update(changed, ["due_at", "warn_at", "provisional"])
    fired = set(request.alerts.order_by().values_list("target", "kind", "level"))
    plan = sla.schedule(targets, is_open=request.is_open, ladder=_steps(ladder_for(request.branch_id)),
                        warned={target for target, kind, _level in fired if kind == AlertKind.WARNING},
                        escalated={(target, level) for target, kind, level in fired if kind == AlertKind.ESCALATION})
    if plan.next_check_at and plan.next_check_at != request.next_check_at:
        _schedule_check_after_commit(request.pk, plan.next_check_at)
    _apply(request, plan)
    request.updated_at = clock.now()
    ServiceRequest.objects.filter(pk=request.pk).update(**{name: getattr(request, name) for name in _SCHEDULE_FIELDS},
                                                        updated_at=request.updated_at)


_SCHEDULE_FIELDS = ("reply_due_at", "resolve_due_at", "next_due_at", "next_check_at", "due_provisional")


def _apply(request, plan: sla.Schedule) -> None:
    request.reply_due_at = plan.dues.get(TargetKind.REPLY)
    request.resolve_due_at = plan.dues.get(TargetKind.RESOLUTION)
    request.next_due_at, request.next_check_at, request.due_provisional = plan.next_due_at, plan.next_check_at, plan.provisional


def _schedule_check_after_commit(request_id: int, at) -> None:
    """Check at the exact instant a warning or escalation is due; the minute sweep remains the safety net."""
    from django.conf import settings

    if settings.AFTERSALES_EXACT_DEADLINE_CHECKS:
        from .tasks import schedule_check

        transaction.on_commit(lambda: schedule_check(request_id, at))


# ------------------------------------------------------------------------------------------- verbs

def open_request(*, by, project, priority: str, channel: str, title: str, description: str, business_impact: str = "",
                 devices=(), reporter_name: str = "", reporter_phone: str = "", customer_rank: int | None = None,
                 reporter_verified: bool = True) -> ServiceRequest:
    """SRQ-1..3: open a request; its reply and resolution clocks start now.

    Nothing is paused or fired yet, so the due times are computed before the row is written, and the row is
    written once. The returned request carries its targets, devices and timeline (as if prefetched): the caller
    can answer without reading them back. Everything that reads no rows is done before the transaction starts:
    on SQLite the transaction holds the database's only write lock."""
    now = clock.now()
    if priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    devices = list({device.pk: device for device in devices}.values())
    if any(device.project_id != project.pk for device in devices):
        raise DomainError(_("Affected devices must belong to the request's project."), field="devices")
    actor = by if by and by.is_authenticated else None
    policy = policy_for(project)
    calendar = service_calendar(policy.calendar)
    targets = []
    for rule, started in _starting(policy, priority, onsite=False, event=TargetStart.CREATED, at=now, created_at=now):
        due, warn = sla.target_times(started, rule.minutes, calendar, (), policy.warn_at_percent / 100)
        targets.append(Target(kind=rule.kind, minutes=rule.minutes, started_at=started, due_at=due.at, warn_at=warn.at,
                              provisional=due.provisional))
    plan = sla.schedule(targets, is_open=True, ladder=_steps(ladder_for(project.branch_id)), warned=(), escalated=())
    request = ServiceRequest(
        project=project, customer_id=project.customer_id, branch_id=project.branch_id, reporter=actor,
        reporter_name=reporter_name or (by.display_name if actor else ""),
        reporter_phone=reporter_phone or getattr(by, "phone", ""), channel=channel, priority=priority,
        title=title, description=description, business_impact=business_impact, customer_rank=customer_rank,
        policy=policy, reporter_verified=reporter_verified,
    )
    _apply(request, plan)
    audited = (audit.creation_diff(request, without=ASSIGNED_ON_INSERT), ASSIGNED_ON_INSERT)
    # No savepoint inside a caller's transaction (an alarm's): a failure here fails the caller's block anyway.
    with transaction.atomic(savepoint=False):
        created = _write_new_request(request, targets, devices, plan, actor=actor, now=now, audited=audited)
    _as_prefetched(request, targets=targets, events=[created],
                   devices=sorted(devices, key=lambda device: (device.name, device.pk)))  # Device's ordering
    return request


def _write_new_request(request, targets, devices, plan, *, actor, now, audited) -> TimelineEvent:
    """The writes of open_request, in its transaction; returns the "created" timeline event."""
    priority, channel = request.priority, request.channel
    _insert_numbered(request, audited)
    for target in targets:
        target.request = request
    _insert_targets(targets)
    if devices:
        through = ServiceRequest.devices.through
        _insert_devices([through(servicerequest_id=request.pk, device_id=device.pk) for device in devices])
    if plan.next_check_at:
        _schedule_check_after_commit(request.pk, plan.next_check_at)
    created = record(request, EventKind.CREATED, actor=actor, at=now, priority=priority, channel=channel)
    notices.send(
        "request_created", request, notices.desk(request),
        subject=_("New %(priority)s request %(number)s: %(title)s") % {
            "priority": Priority(priority).label, "number": request.number, "title": request.title},
        body=request.description, dedupe_key=f"created-{request.pk}",
    )
    return created


def _as_prefetched(instance, **related) -> None:
    """Keep related rows on the instance as `prefetch_related` would have read them."""
    cache = getattr(instance, "_prefetched_objects_cache", None) or {}
    for name, objects in related.items():
        queryset = getattr(instance, name).get_queryset()
        queryset._result_cache, queryset._prefetch_done = list(objects), True
        cache[name] = queryset
    instance._prefetched_objects_cache = cache


_insert_requests, _insert_targets = Insert(ServiceRequest), Insert(Target)
_update_number = Update(ServiceRequest, ("number",))  # no signal: the number gets no audit entry of its own
_insert_devices = Insert(ServiceRequest.devices.through)  # bulk_create sends no m2m_changed either


# What the INSERT sets (the key, the auto_now times) and the number made from the key: the audit entry's diff of
# every other field is worked out before the transaction.
ASSIGNED_ON_INSERT = ("id", "number", "created_at", "updated_at")


def _insert_numbered(request: ServiceRequest, audited) -> None:
    """INSERT the request, then number it after its primary key (SR0000042) with a plain UPDATE. The audit log
    gets one entry, for the creation, carrying the final number; none for the number's UPDATE (SEC-2).
    The INSERT sends no signals: the audit log's is the only receiver, and its entry is written here."""
    request.number = f"T{secrets.token_hex(8)}"  # unique until the UPDATE below
    _insert_requests([request])
    request.number = f"SR{request.pk:07d}"
    _update_number(request)
    audit.log_created([request], before_insert=audited)


def _locked(request) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().select_related("policy__calendar").get(pk=request.pk)


@transaction.atomic
def reply(*, request, by, mode: str, plan: str, scheduled_for=None, version: int | None = None) -> ServiceRequest:
    """SRQ-4: reply with a service plan (mode, plan, schedule); the reply target is met."""
    request = _locked(request)
    claim_version(request, version)
    if mode not in ServiceMode.values:
        raise DomainError(_("Choose a service mode."), field="mode")
    if not plan.strip():
        raise DomainError(_("Describe the service plan."), field="plan")
    now = clock.now()
    move(request, State.REPLIED)
    request.service_mode, request.plan, request.scheduled_for, request.replied_at = mode, plan, scheduled_for, now
    request.save(update_fields=["state", "service_mode", "plan", "scheduled_for", "replied_at", "updated_at"])
    _meet(request, TargetKind.REPLY, now)
    recompute(request, now=now)
    record(request, EventKind.REPLIED, actor=by, at=now, text=plan, mode=mode,
           scheduled_for=scheduled_for.isoformat() if scheduled_for else None)
    notices.send("request_replied", request, notices.customer_contacts(request),
                       subject=_("Service plan for %(number)s") % {"number": request.number}, body=plan,
                       dedupe_key=f"replied-{request.pk}-{request.version}")
    return request


@transaction.atomic
def dispatch(*, request, by, engineer, version: int | None = None) -> ServiceRequest:
    """SRQ-6: send an engineer; on-site departure and arrival clocks start now."""
    request = _locked(request)
    claim_version(request, version)
    if engineer.customer_id or not engineer.is_active:
        raise DomainError(_("Only active staff can be dispatched."), field="engineer")
    now = clock.now()
    if request.state == State.NEW:  # dispatching is a reply with an on-site plan
        _meet(request, TargetKind.REPLY, now)
        request.replied_at = now
        request.service_mode = ServiceMode.ONSITE
        move(request, State.REPLIED)
    move(request, State.DISPATCHED)
    request.assignee = engineer
    if not request.service_mode:
        request.service_mode = ServiceMode.ONSITE
    request.save(update_fields=["state", "assignee", "service_mode", "replied_at", "updated_at"])
    _start_targets(request, event=TargetStart.DISPATCHED, at=now)
    Visit.objects.create(request=request, engineer=engineer)
    recompute(request, now=now)
    record(request, EventKind.DISPATCHED, actor=by, at=now, engineer=engineer.pk, engineer_name=engineer.display_name)
    notices.send("request_assigned", request, [engineer],
                       subject=_("You are dispatched to %(number)s: %(title)s") % {"number": request.number, "title": request.title},
                       body=request.plan or request.description, dedupe_key=f"assigned-{request.pk}-{engineer.pk}-{request.version}")
    return request


def _current_visit(request, engineer) -> Visit:
    visit = request.visits.filter(engineer=engineer, left_at__isnull=True).order_by("-pk").first()
    if visit is None:
        raise IllegalTransition(_("You are not dispatched to this request."))
    return visit


@transaction.atomic
def depart(*, request, by) -> ServiceRequest:
    request = _locked(request)
    visit = _current_visit(request, by)
    now = clock.now()
    move(request, State.EN_ROUTE)
    request.save(update_fields=["state", "updated_at"])
    visit.departed_at = now
    visit.save(update_fields=["departed_at"])
    _meet(request, TargetKind.DEPARTURE, now)
    recompute(request, now=now)
    record(request, EventKind.DEPARTED, actor=by, at=now)
    return request


@transaction.atomic
def arrive(*, request, by, latitude=None, longitude=None, accuracy_m=None, photo=None,
           confirmed_by_customer: bool = False) -> ServiceRequest:
    """SRQ-6: arrival carries proof: a position, a photo, or the customer's confirmation."""
    if latitude is None and photo is None and not confirmed_by_customer:
        raise DomainError(_("Arrival needs proof: allow the position, add a photo or have the customer confirm."))
    request = _locked(request)
    visit = _current_visit(request, by)
    now = clock.now()
    move(request, State.ON_SITE)
    request.save(update_fields=["state", "updated_at"])
    visit.arrived_at = now
    data = {}
    if latitude is not None and longitude is not None:
        visit.arrival_latitude, visit.arrival_longitude = Decimal(str(latitude)).quantize(Decimal("0.000001")), Decimal(str(longitude)).quantize(Decimal("0.000001"))
        visit.arrival_accuracy_m = int(accuracy_m) if accuracy_m is not None else None
        visit.arrival_proof = "position"
        project = request.project
        if project.latitude is not None and project.longitude is not None:
            visit.arrival_distance_m = round(great_circle_m(latitude, longitude, project.latitude, project.longitude))
            data = {"distance_m": visit.arrival_distance_m, "far": visit.arrival_distance_m > FAR_FROM_SITE_M}
        data |= {"latitude": float(latitude), "longitude": float(longitude), "accuracy_m": visit.arrival_accuracy_m}
    elif photo is not None:
        visit.arrival_proof, visit.arrival_photo = "photo", photo
        data = {"photo": photo.pk}
    else:
        visit.arrival_proof = "customer"
    data["proof"] = visit.arrival_proof
    visit.save()
    _meet(request, TargetKind.DEPARTURE, now)
    _meet(request, TargetKind.ARRIVAL, now)
    _start_targets(request, event=TargetStart.ARRIVED, at=now)
    recompute(request, now=now)
    record(request, EventKind.ARRIVED, actor=by, at=now, **data)
    return request


@transaction.atomic
def leave(*, request, by) -> Visit:
    """The engineer leaves the site; time on site is recorded."""
    request = _locked(request)
    visit = request.visits.filter(engineer=by, arrived_at__isnull=False, left_at__isnull=True).order_by("-pk").first()
    if visit is None:
        raise IllegalTransition(_("You are not on site for this request."))
    now = clock.now()
    visit.left_at = now
    visit.save(update_fields=["left_at"])
    minutes = round((now - visit.arrived_at).total_seconds() / 60)
    record(request, EventKind.LEFT, actor=by, at=now, minutes_on_site=minutes)
    return visit


@transaction.atomic
def pause(*, request, by, reason: str, version: int | None = None) -> ServiceRequest:
    """Time lost because of the owner stops the clock (SRQ-3)."""
    if not reason.strip():
        raise DomainError(_("Say why the clock is paused."), field="reason")
    request = _locked(request)
    claim_version(request, version)
    if not request.is_open or request.paused:
        raise IllegalTransition(_("Only a running clock of an open request can be paused."))
    now = clock.now()
    Pause.objects.create(request=request, started_at=now, reason=reason, by=by)
    request.paused = True
    request.save(update_fields=["paused", "updated_at"])
    recompute(request, now=now)
    record(request, EventKind.PAUSED, actor=by, at=now, text=reason)
    return request


@transaction.atomic
def resume(*, request, by, version: int | None = None) -> ServiceRequest:
    request = _locked(request)
    claim_version(request, version)
    if not request.paused:
        raise IllegalTransition(_("The clock is not paused."))
    now = clock.now()
    request.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    request.paused = False
    request.save(update_fields=["paused", "updated_at"])
    recompute(request, now=now)
    record(request, EventKind.RESUMED, actor=by, at=now)
    return request


@transaction.atomic
def change_priority(*, request, by, priority: str, reason: str = "", version: int | None = None) -> ServiceRequest:
    """Targets take the new priority's minutes; due times are recomputed from the same log."""
    request = _locked(request)
    claim_version(request, version)
    if priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    old, request.priority = request.priority, priority
    request.save(update_fields=["priority", "updated_at"])
    rules = _rules(request.policy, priority)
    for target in request.targets.all():
        if target.kind in rules:
            target.minutes = rules[target.kind].minutes
            target.save(update_fields=["minutes"])
    recompute(request)
    record(request, EventKind.PRIORITY_CHANGED, actor=by, text=reason, old=old, new=priority)
    return request


@transaction.atomic
def submit_work_order(*, request, by, actions: str, minutes_spent: int, result: str, parts_used: str = "",
                      attachments=()) -> WorkOrder:
    """SRQ-7: the engineer's work order; the request waits for the customer's confirmation."""
    request = _locked(request)
    if result not in WorkResult.values:
        raise DomainError(_("Choose a result."), field="result")
    if not actions.strip():
        raise DomainError(_("Describe the actions taken."), field="actions")
    if result != WorkResult.SOLVED and not attachments:
        raise DomainError(_("Screenshots are required when the problem is not solved."), field="attachments")
    now = clock.now()
    if request.state in (State.DISPATCHED, State.EN_ROUTE):
        raise IllegalTransition(_("Record the arrival on site before the work order."))
    move(request, State.RESOLVED)
    request.resolved_at = now
    request.save(update_fields=["state", "resolved_at", "updated_at"])
    work_order = WorkOrder.objects.create(request=request, engineer=by, actions=actions, parts_used=parts_used,
                                          minutes_spent=minutes_spent, result=result)
    for attachment in attachments:
        attachment.work_order = work_order
        attachment.save(update_fields=["work_order"])
    _meet(request, TargetKind.RESOLUTION, now)
    recompute(request, now=now)
    record(request, EventKind.RESOLVED, actor=by, at=now, work_order=work_order.pk, result=result)
    from .confirmation import confirmation_url

    notices.send("confirmation_needed", request, notices.customer_contacts(request),
                       subject=_("Please confirm the work on %(number)s") % {"number": request.number},
                       body=actions, url=confirmation_url(work_order), dedupe_key=f"wo-done-{work_order.pk}")
    return work_order


@transaction.atomic
def confirm_work_order(*, work_order, by=None, signer_name: str = "", via: str, version: int | None = None,
                       signature=None, satisfaction: int | None = None, comment: str = "") -> WorkOrder:
    """SRQ-7: the customer accepts the work; the request is closed."""
    work_order = WorkOrder.objects.select_for_update().select_related("request").get(pk=work_order.pk)
    claim_version(work_order, version)
    if work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(_("Only a work order awaiting confirmation can be confirmed."))
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise DomainError(_("Rate from 1 to 5."), field="satisfaction")
    now = clock.now()
    work_order.state, work_order.confirmed_at, work_order.confirmed_by = WorkOrderState.CONFIRMED, now, by
    work_order.signer_name = signer_name or (by.display_name if by else "")
    work_order.confirmed_via, work_order.satisfaction, work_order.customer_comment = via, satisfaction, comment
    if signature is not None:
        work_order.signature.save(f"wo-{work_order.pk}-{now:%Y%m%d%H%M%S}.png", signature, save=False)
    work_order.save()
    request = _locked(work_order.request)
    move(request, State.CLOSED)
    request.closed_at = now
    request.save(update_fields=["state", "closed_at", "updated_at"])
    recompute(request, now=now)
    record(request, EventKind.CONFIRMED, actor=by, at=now, work_order=work_order.pk, via=via,
           signer=work_order.signer_name, satisfaction=satisfaction, text=comment)
    notices.send("work_order_confirmed", request, [work_order.engineer, *notices.desk(request)],
                       subject=_("%(number)s confirmed by the customer") % {"number": request.number},
                       body=comment or "", dedupe_key=f"wo-ok-{work_order.pk}")
    return work_order


@transaction.atomic
def reject_work_order(*, work_order, by=None, reason: str, via: str, version: int | None = None) -> WorkOrder:
    """SRQ-7: rejection reopens the request with the reason; the resolution clock runs again."""
    if not reason.strip():
        raise DomainError(_("Say why the work is rejected."), field="reason")
    work_order = WorkOrder.objects.select_for_update().select_related("request").get(pk=work_order.pk)
    claim_version(work_order, version)
    if work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(_("Only a work order awaiting confirmation can be rejected."))
    now = clock.now()
    work_order.state, work_order.rejection_reason, work_order.confirmed_via = WorkOrderState.REJECTED, reason, via
    work_order.save(update_fields=["state", "rejection_reason", "confirmed_via", "version", "updated_at"])
    request = _locked(work_order.request)
    move(request, State.REPLIED)
    request.resolved_at = None
    request.save(update_fields=["state", "resolved_at", "updated_at"])
    Target.objects.filter(request=request, kind=TargetKind.RESOLUTION).update(met_at=None)
    recompute(request, now=now)
    record(request, EventKind.REJECTED, actor=by, at=now, text=reason, work_order=work_order.pk, via=via)
    notices.send("work_rejected", request, [work_order.engineer, *notices.desk(request)],
                       subject=_("%(number)s reopened: the customer rejected the work") % {"number": request.number},
                       body=reason, dedupe_key=f"wo-rejected-{work_order.pk}")
    return work_order


@transaction.atomic
def comment(*, request, by, text: str) -> TimelineEvent:
    if not text.strip():
        raise DomainError(_("Write a comment."), field="text")
    return record(request, EventKind.COMMENT, actor=by, text=text)


@transaction.atomic
def record_contingency(*, request, by, plan: str) -> ServiceRequest:
    """SRQ-5: the contingency plan agreed with the user (e.g. a spare unit lent)."""
    if not plan.strip():
        raise DomainError(_("Describe the agreed contingency plan."), field="plan")
    request = _locked(request)
    request.contingency_plan = plan
    request.save(update_fields=["contingency_plan", "updated_at"])
    record(request, EventKind.CONTINGENCY, actor=by, text=plan)
    return request


@transaction.atomic
def hand_to_advisor(*, request, by, advisor, note: str = "") -> ServiceRequest:
    """SRQ-9: hard problems go to the technical advisor pool."""
    from aftersales.accounts.models import Position

    if advisor.position != Position.TECHNICAL_ADVISOR or not advisor.is_active:
        raise DomainError(_("Choose a technical advisor."), field="advisor")
    request = _locked(request)
    request.advisor = advisor
    request.save(update_fields=["advisor", "updated_at"])
    record(request, EventKind.ADVISOR, actor=by, text=note, advisor=advisor.pk, advisor_name=advisor.display_name)
    notices.send("advisor_needed", request, [advisor],
                       subject=_("Your advice is needed on %(number)s") % {"number": request.number},
                       body=note or request.description, dedupe_key=f"advisor-{request.pk}-{advisor.pk}")
    return request


@transaction.atomic
def cancel(*, request, by, reason: str, version: int | None = None) -> ServiceRequest:
    if not reason.strip():
        raise DomainError(_("Say why the request is cancelled."), field="reason")
    request = _locked(request)
    claim_version(request, version)
    move(request, State.CANCELLED)
    request.save(update_fields=["state", "updated_at"])
    recompute(request)
    record(request, EventKind.CANCELLED, actor=by, text=reason)
    return request


# ------------------------------------------------------------------------------------------- calendar changes

def recompute_open_requests(*, calendar_id: int | None = None, since=None, provisional_only: bool = False) -> int:
    """Lessons #1 and #2: a calendar change moves the due times of the open requests it can touch, recomputed from
    their clock log — those of `calendar_id` (None: every calendar), due at or after `since` (a changed day's
    start) or still provisional; or, for a newly known year, only the provisional ones. One transaction each."""
    requests = ServiceRequest.objects.filter(state__in=OPEN_STATES)
    if calendar_id is not None:
        requests = requests.filter(policy__calendar_id=calendar_id)
    if provisional_only:
        requests = requests.filter(due_provisional=True)
    elif since is not None:
        requests = requests.filter(Q(next_due_at__gte=since) | Q(resolve_due_at__gte=since) | Q(due_provisional=True))
    ids = list(requests.values_list("pk", flat=True))
    for request_id in ids:
        with transaction.atomic():
            recompute(_locked(ServiceRequest(pk=request_id)))
    return len(ids)


# ------------------------------------------------------------------------------------------- the sweep

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
    _insert_events(events)
    notices.send_many(messages)

    for request in requests:  # the next check, from the stored due times and what has fired now
        plan = sla.schedule(targets[request.pk], is_open=request.is_open, ladder=_steps(ladders[request.branch_id]),
                            warned={t for t, kind, _level in fired[request.pk] if kind == AlertKind.WARNING},
                            escalated={(t, level) for t, kind, level in fired[request.pk] if kind == AlertKind.ESCALATION})
        if plan.next_check_at and plan.next_check_at != request.next_check_at:
            _schedule_check_after_commit(request.pk, plan.next_check_at)
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


_insert_alerts_once = Insert(SlaAlert, ignore_conflicts=True)  # no signal listens to alerts; a fired one stays


def _insert_alerts(due, requests, now) -> set[tuple]:
    """Insert the due alerts; return the keys (request id, target, kind, level) of those inserted by us."""
    alerts = [SlaAlert(request=request, target=target.kind, kind=kind, level=step.level if step else 0, fired_at=now)
              for request, target, kind, step in due if kind is not None]
    if not alerts:
        return set()
    _insert_alerts_once(alerts)  # ids are not returned: read back what is ours
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
    """Store the batch's next checks and escalation levels: one UPDATE statement run for each request
    (executemany). `bulk_update` would say the same with a CASE per column, which Django takes longer to build
    than the database takes to run a hundred plain UPDATEs. No signals, so no audit entries: these are derived."""
    changed_at = clock.now()
    ops, quote = connection.ops, connection.ops.quote_name
    sql = "UPDATE {} SET {} = %s, {} = %s, {} = %s WHERE {} = %s".format(*map(quote, (
        ServiceRequest._meta.db_table, "next_check_at", "escalation_level", "updated_at", "id")))
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(ops.adapt_datetimefield_value(request.next_check_at), request.escalation_level,
                                  ops.adapt_datetimefield_value(changed_at), request.pk) for request in requests])
    for request in requests:
        request.updated_at = changed_at


# ------------------------------------------------------------------------------------------- incident reports (SRQ-8)

INCIDENT_FIELDS = ("cause", "impact", "timeline", "fix", "prevention")


@transaction.atomic
def save_incident_report(*, request, by, version: int | None = None, **fields) -> "IncidentReport":
    """Write or revise the draft of a fault's incident report (cause, impact, timeline, fix, prevention)."""
    from .models import IncidentReport

    missing = [name for name in INCIDENT_FIELDS if not str(fields.get(name, "")).strip()]
    if missing:
        raise DomainError(_("This part of the report is required."), field=missing[0])
    report = IncidentReport.objects.select_for_update().filter(request=request).first()
    if report is None:
        report = IncidentReport.objects.create(request=request, author=by, **{k: fields[k] for k in INCIDENT_FIELDS})
    else:
        if version is None:
            raise StaleObject(_("This request already has an incident report. Revise it with its current version."))
        claim_version(report, version)
        if report.state not in (WorkOrderState.DRAFT, WorkOrderState.REJECTED):
            raise IllegalTransition(_("A submitted or confirmed report cannot be edited."))
        for name in INCIDENT_FIELDS:
            setattr(report, name, fields[name])
        report.state = WorkOrderState.DRAFT
        report.save()
    return report


@transaction.atomic
def submit_incident_report(*, report, by, version: int | None = None):
    """SRQ-8: submit the report to the customer for confirmation."""
    from .confirmation import incident_confirmation_url
    from .models import IncidentReport

    report = IncidentReport.objects.select_for_update().select_related("request").get(pk=report.pk)
    claim_version(report, version)
    if report.state not in (WorkOrderState.DRAFT, WorkOrderState.REJECTED):
        raise IllegalTransition(_("Only a draft report can be submitted."))
    now = clock.now()
    report.state, report.submitted_at, report.rejection_reason = WorkOrderState.AWAITING_CONFIRMATION, now, ""
    report.save()
    record(report.request, EventKind.INCIDENT_REPORT, actor=by, at=now, text=report.cause, step="submitted", report=report.pk)
    notices.send("confirmation_needed", report.request, notices.customer_contacts(report.request),
                       subject=_("Please confirm the incident report of %(number)s") % {"number": report.request.number},
                       body=report.cause, url=incident_confirmation_url(report),
                       dedupe_key=f"incident-{report.pk}-{report.version}")
    return report


@transaction.atomic
def answer_incident_report(*, report, by=None, accept: bool, reason: str = "", via: str, version: int | None = None,
                           signer_name: str = ""):
    """SRQ-8: the customer confirms the report, or rejects it with a reason (back to draft for revision)."""
    from .models import IncidentReport

    report = IncidentReport.objects.select_for_update().select_related("request").get(pk=report.pk)
    claim_version(report, version)
    if report.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(_("Only a submitted report can be confirmed or rejected."))
    if not accept and not reason.strip():
        raise DomainError(_("Say why the report is rejected."), field="reason")
    now = clock.now()
    if accept:
        report.state, report.confirmed_at, report.confirmed_by = WorkOrderState.CONFIRMED, now, by
    else:
        report.state, report.rejection_reason = WorkOrderState.REJECTED, reason
    report.save()
    record(report.request, EventKind.INCIDENT_REPORT, actor=by, at=now, text=reason,
           step="confirmed" if accept else "rejected", report=report.pk, via=via,
           signer=signer_name or (by.display_name if by else ""))
    notices.send("incident_report_answered", report.request, [report.author, *notices.desk(report.request)],
                       subject=(_("Incident report of %(number)s confirmed") if accept
                                else _("Incident report of %(number)s rejected")) % {"number": report.request.number},
                       body=reason, dedupe_key=f"incident-answer-{report.pk}-{report.version}")
    return report


def add_attachments(*, request, by, uploads) -> list:
    """Attach files (screenshots, photos, logs) to a request after it was opened; one timeline event.
    All or nothing, files included: a failure deletes the files already stored."""
    from . import attachments

    with attachments.atomic_with_files() as stored:
        for upload in uploads:
            stored.append(attachments.store(request, upload, by=by))
        if stored:
            record(request, EventKind.ATTACHMENT, actor=by, files=[a.original_name for a in stored])
    return stored
