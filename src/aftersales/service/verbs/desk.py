"""The desk's verbs on a request (SRQ-4..6, SRQ-9). Each is one transaction: lock, check the version the user saw,
check the action is allowed now, write, record the timeline and the outbox."""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.core.versioning import claim_version

from .. import actions, attachments, notices, part_lines
from ..clock import meet, recompute, rules_for, start_targets
from ..models import (
    EventKind,
    Pause,
    Priority,
    ServiceMode,
    ServiceRequest,
    State,
    TargetKind,
    TargetStart,
    Visit,
)
from ..timeline import lock_request, move, record


def _locked_at(request, version: int, action: str) -> ServiceRequest:
    request = lock_request(request)
    claim_version(request, version)
    actions.check(action, request, None)
    return request


@transaction.atomic
def reply(*, request, by, version: int, mode: str, plan: str, scheduled_for=None) -> ServiceRequest:
    """SRQ-4: reply with a service plan (mode, plan, schedule); the reply target is met."""
    if mode not in ServiceMode.values:
        raise DomainError(_("Choose a service mode."), field="mode")
    if not plan.strip():
        raise DomainError(_("Describe the service plan."), field="plan")
    request = _locked_at(request, version, "reply")
    now = clock.now()
    move(request, State.REPLIED)
    request.service_mode, request.plan, request.scheduled_for, request.replied_at = mode, plan, scheduled_for, now
    request.save(update_fields=["state", "service_mode", "plan", "scheduled_for", "replied_at", "updated_at"])
    meet(request, TargetKind.REPLY, now)
    if mode == ServiceMode.ONSITE:  # the on-site clocks run from the report, engineer named or not (issue 21 §1)
        start_targets(request, event=TargetStart.DISPATCHED, at=now)
    recompute(request, now=now)
    record(request, EventKind.REPLIED, actor=by, at=now, text=plan, mode=mode,
           scheduled_for=scheduled_for.isoformat() if scheduled_for else None)
    notices.send("request_replied", request, notices.customer_contacts(request),
                 subject=_("Service plan for %(number)s") % {"number": request.number}, body=plan,
                 dedupe_key=f"replied-{request.pk}-{request.version}")
    return request


@transaction.atomic
def dispatch(*, request, by, version: int, engineer) -> ServiceRequest:
    """SRQ-6: send an engineer; the on-site clocks start unless an on-site plan started them already."""
    if engineer.customer_id or not engineer.is_active:
        raise DomainError(_("Only active staff can be dispatched."), field="engineer")
    request = _locked_at(request, version, "dispatch")
    now = clock.now()
    if request.state == State.NEW:  # dispatching is a reply with an on-site plan
        meet(request, TargetKind.REPLY, now)
        request.replied_at = now
        request.service_mode = ServiceMode.ONSITE
        move(request, State.REPLIED)
    move(request, State.DISPATCHED)
    request.assignee = engineer
    # Sending someone is the decision to go on site, whatever the first plan said (a remote plan that did not help)
    request.service_mode = ServiceMode.ONSITE
    request.save(update_fields=["state", "assignee", "service_mode", "replied_at", "updated_at"])
    start_targets(request, event=TargetStart.DISPATCHED, at=now)
    Visit.objects.create(request=request, engineer=engineer)
    recompute(request, now=now)
    record(request, EventKind.DISPATCHED, actor=by, at=now, engineer=engineer.pk, engineer_name=engineer.display_name)
    notices.send("request_assigned", request, [engineer],
                 subject=_("You are dispatched to %(number)s: %(title)s") % {"number": request.number, "title": request.title},
                 body=request.plan or request.description, dedupe_key=f"assigned-{request.pk}-{engineer.pk}-{request.version}")
    return request


@transaction.atomic
def pause(*, request, by, version: int, reason: str) -> ServiceRequest:
    """Time lost because of the owner stops the clock (SRQ-3)."""
    if not reason.strip():
        raise DomainError(_("Say why the clock is paused."), field="reason")
    request = lock_request(request)
    claim_version(request, version)
    actions.check("pause", request, None, _("Only a running clock of an open request can be paused."))
    now = clock.now()
    Pause.objects.create(request=request, started_at=now, reason=reason, by=by)
    request.paused = True
    request.save(update_fields=["paused", "updated_at"])
    recompute(request, now=now)
    record(request, EventKind.PAUSED, actor=by, at=now, text=reason)
    return request


@transaction.atomic
def resume(*, request, by, version: int) -> ServiceRequest:
    request = lock_request(request)
    claim_version(request, version)
    actions.check("resume", request, None, _("The clock is not paused."))
    now = clock.now()
    request.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    request.paused = False
    request.save(update_fields=["paused", "updated_at"])
    recompute(request, now=now)
    record(request, EventKind.RESUMED, actor=by, at=now)
    return request


@transaction.atomic
def change_priority(*, request, by, version: int, priority: str, reason: str = "") -> ServiceRequest:
    """Targets take the new priority's minutes; due times are recomputed from the same log."""
    if priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    request = _locked_at(request, version, "change_priority")
    old, request.priority = request.priority, priority
    request.save(update_fields=["priority", "updated_at"])
    rules = rules_for(request.policy, priority)
    for target in request.targets.all():
        if target.kind in rules:
            target.minutes = rules[target.kind].minutes
            target.save(update_fields=["minutes"])
    recompute(request)
    record(request, EventKind.PRIORITY_CHANGED, actor=by, text=reason, old=old, new=priority)
    return request


@transaction.atomic
def record_contingency(*, request, by, version: int, plan: str) -> ServiceRequest:
    """SRQ-5: the contingency plan agreed with the user (e.g. a spare unit lent)."""
    if not plan.strip():
        raise DomainError(_("Describe the agreed contingency plan."), field="plan")
    request = _locked_at(request, version, "contingency")
    request.contingency_plan = plan
    request.save(update_fields=["contingency_plan", "updated_at"])
    record(request, EventKind.CONTINGENCY, actor=by, text=plan)
    return request


@transaction.atomic
def hand_to_advisor(*, request, by, version: int, advisor, note: str = "") -> ServiceRequest:
    """SRQ-9: hard problems go to the technical advisor pool."""
    from aftersales.accounts.models import Position

    if advisor.position != Position.TECHNICAL_ADVISOR or not advisor.is_active:
        raise DomainError(_("Choose a technical advisor."), field="advisor")
    request = _locked_at(request, version, "advisor")
    request.advisor = advisor
    request.save(update_fields=["advisor", "updated_at"])
    record(request, EventKind.ADVISOR, actor=by, text=note, advisor=advisor.pk, advisor_name=advisor.display_name)
    notices.send("advisor_needed", request, [advisor],
                 subject=_("Your advice is needed on %(number)s") % {"number": request.number},
                 body=note or request.description, dedupe_key=f"advisor-{request.pk}-{advisor.pk}")
    return request


@transaction.atomic
def cancel(*, request, by, version: int, reason: str) -> ServiceRequest:
    if not reason.strip():
        raise DomainError(_("Say why the request is cancelled."), field="reason")
    request = lock_request(request)
    claim_version(request, version)
    move(request, State.CANCELLED)
    request.save(update_fields=["state", "updated_at"])
    part_lines.release_reserved(request=request, by=by)
    recompute(request)
    record(request, EventKind.CANCELLED, actor=by, text=reason)
    return request


# Appends: a comment or a file changes nothing another user could overwrite, so they take no version.

@transaction.atomic
def comment(*, request, by, text: str):
    if not text.strip():
        raise DomainError(_("Write a comment."), field="text")
    return record(request, EventKind.COMMENT, actor=by, text=text)


def add_attachments(*, request, by, uploads) -> list:
    """Attach files (screenshots, photos, logs) to a request after it was opened; one timeline event.
    All or nothing, files included: a failure deletes the files already stored."""
    with attachments.atomic_with_files() as stored:
        for upload in uploads:
            stored.append(attachments.store(request, upload, by=by))
        if stored:
            record(request, EventKind.ATTACHMENT, actor=by, files=[a.original_name for a in stored])
    return stored
