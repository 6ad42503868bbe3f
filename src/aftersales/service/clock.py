"""The SLA clock of a request: which policy and rules apply, when each target starts, the due times derived from
the clock log (targets and pauses) on the policy's calendar, and the branch's escalation ladder. The arithmetic
itself is pure (service/sla.py, core/calendar_math.py); this module reads and stores what it needs."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.cache import WorkerCache
from aftersales.core.errors import DomainError

from . import sla
from .signals import check_due_at
from .calendar_store import service_calendar
from .models import (
    OPEN_STATES,
    AlertKind,
    EscalationRule,
    ProjectPolicy,
    ServiceMode,
    ServiceRequest,
    SlaPolicy,
    SlaTargetRule,
    Target,
    TargetKind,
    TargetStart,
    WorkCalendar,
)

DEFAULT_LADDER = [(1, "department_manager", 0), (2, "general_manager", 60)]


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


# ------------------------------------------------------------------------------------------- the clock

def rules_for(policy, priority) -> dict:
    return dict(_policy_table().rules.get((policy.pk, priority), {}))


def starting(policy, priority, *, onsite: bool, event: str, at, created_at):
    """(rule, start) of every target whose rule counts from `event` (created / dispatched / arrived).
    On-site-only targets start when on-site service is decided (an on-site plan at the reply, or a dispatch,
    whichever comes first: event `dispatched`), whether or not an engineer is named yet; those counted from the
    report then start at the request's creation, so neither a late decision nor a late dispatch can hide a late
    departure (issue 21 §1: "在收到服务请求后1个小时内…出发")."""
    for rule in rules_for(policy, priority).values():
        if rule.onsite_only:
            if not onsite or event == TargetStart.CREATED:
                continue
            if event == TargetStart.DISPATCHED and rule.starts == TargetStart.CREATED:
                yield rule, created_at
            elif rule.starts == event:
                yield rule, at
        elif rule.starts == event:
            yield rule, at


def start_targets(request, *, event: str, at) -> None:
    """Start the targets `event` starts. A target that has started keeps its clock: a dispatch after an on-site
    plan, or a second visit's arrival, does not give anyone more time. A negotiable arrival (one counted from the
    on-site decision) with an appointment agreed at the reply is due at the appointment."""
    started_kinds = set(request.targets.filter(started_at__isnull=False).values_list("kind", flat=True))
    for rule, started in starting(request.policy, request.priority, onsite=request.service_mode == ServiceMode.ONSITE,
                                   event=event, at=at, created_at=request.created_at):
        if rule.kind in started_kinds:
            continue
        appointed = (request.scheduled_for if rule.kind == TargetKind.ARRIVAL and rule.starts == TargetStart.DISPATCHED
                     else None)
        Target.objects.update_or_create(request=request, kind=rule.kind, defaults={
            "minutes": rule.minutes, "started_at": started, "appointed_at": appointed, "met_at": None})


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


def steps(ladder) -> list[tuple[int, int]]:
    return [(step.level, step.delay_minutes) for step in ladder]


def meet(request, kind: str, at) -> None:
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
        if target.appointed_at is not None:
            due, warn = sla.appointment_times(target.started_at, target.appointed_at, warn_fraction)
        else:
            due, warn = sla.target_times(target.started_at, target.minutes, calendar, pauses, warn_fraction)
        if (target.due_at, target.warn_at, target.provisional) != (due.at, warn.at, due.provisional):
            target.due_at, target.warn_at, target.provisional = due.at, warn.at, due.provisional
            changed.append(target)
    if changed:
        Target.objects.bulk_update(changed, ["due_at", "warn_at", "provisional"])
    fired = set(request.alerts.order_by().values_list("target", "kind", "level"))
    plan = sla.schedule(targets, is_open=request.is_open, ladder=steps(ladder_for(request.branch_id)),
                        warned={target for target, kind, _level in fired if kind == AlertKind.WARNING},
                        escalated={(target, level) for target, kind, level in fired if kind == AlertKind.ESCALATION})
    if plan.next_check_at and plan.next_check_at != request.next_check_at:
        schedule_check_after_commit(request.pk, plan.next_check_at)
    apply_schedule(request, plan)
    request.updated_at = clock.now()
    ServiceRequest.objects.filter(pk=request.pk).update(**{name: getattr(request, name) for name in _SCHEDULE_FIELDS},
                                                        updated_at=request.updated_at)


_SCHEDULE_FIELDS = ("reply_due_at", "resolve_due_at", "next_due_at", "next_check_at", "due_provisional")


def apply_schedule(request, plan: sla.Schedule) -> None:
    request.reply_due_at = plan.dues.get(TargetKind.REPLY)
    request.resolve_due_at = plan.dues.get(TargetKind.RESOLUTION)
    request.next_due_at, request.next_check_at, request.due_provisional = plan.next_due_at, plan.next_check_at, plan.provisional


def schedule_check_after_commit(request_id: int, at) -> None:
    """Check at the exact instant a warning or escalation is due; the minute sweep remains the safety net."""
    from django.conf import settings

    if settings.AFTERSALES_EXACT_DEADLINE_CHECKS:
        transaction.on_commit(lambda: check_due_at.send(sender=ServiceRequest, request_id=request_id, at=at))


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
            recompute(ServiceRequest.objects.select_for_update().select_related("policy__calendar").get(pk=request_id))
    return len(ids)
