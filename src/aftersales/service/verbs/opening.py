"""Opening a request (SRQ-1..3), from any channel."""

import secrets
from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError

from .. import attachments, notices, sla
from ..calendar_store import service_calendar
from ..clock import (
    apply_schedule,
    ladder_for,
    policy_for,
    schedule_check_after_commit,
    starting,
    steps,
)
from ..models import EventKind, Priority, ServiceRequest, Target, TargetStart
from ..terms import search_terms
from ..timeline import creation_changes, record


def open_request(*, by, project, priority: str, channel: str, title: str, description: str, business_impact: str = "",
                 devices=(), reporter=None, reporter_name: str = "", reporter_phone: str = "",
                 customer_rank: int | None = None, reporter_verified: bool = True, uploads=(),
                 reported_at=None) -> ServiceRequest:
    """Open a request; its reply and resolution clocks start now, or at `reported_at` when the problem was found
    earlier by our own side (an inspection finding, issue 23 §5: the clock starts at the finding; never later than
    now). `by` opened it (None: the system), `reporter` reported it (default: `by`); `uploads` are stored with it,
    all or nothing.

    Nothing is paused or fired yet, so the due times are computed before the row is written, and the row is
    written once. Everything that reads no rows is done before the transaction starts: on SQLite the transaction
    holds the database's only write lock."""
    now = clock.now()
    if priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    devices = list({device.pk: device for device in devices}.values())
    if any(device.project_id != project.pk for device in devices):
        raise DomainError(_("Affected devices must belong to the request's project."), field="devices")
    for upload in uploads:
        attachments.check_upload(upload)
    actor = by if by and by.is_authenticated else None
    if reporter is None:
        reporter = actor
    policy = policy_for(project)
    calendar = service_calendar(policy.calendar)
    targets = []
    clock_from = min(reported_at, now) if reported_at is not None else now
    for rule, started in starting(policy, priority, onsite=False, event=TargetStart.CREATED, at=clock_from,
                                  created_at=clock_from):
        due, warn = sla.target_times(started, rule.minutes, calendar, (), policy.warn_at_percent / 100)
        targets.append(Target(kind=rule.kind, minutes=rule.minutes, started_at=started, due_at=due.at, warn_at=warn.at,
                              provisional=due.provisional))
    plan = sla.schedule(targets, is_open=True, ladder=steps(ladder_for(project.branch_id)), warned=(), escalated=())
    reporter_name = reporter_name or (reporter.display_name if reporter else "")
    request = ServiceRequest(
        project=project, customer_id=project.customer_id, branch_id=project.branch_id, reporter=reporter,
        reporter_name=reporter_name, search_terms=search_terms(title, reporter_name),
        reporter_phone=reporter_phone or getattr(reporter, "phone", ""), channel=channel, priority=priority,
        title=title, description=description, business_impact=business_impact, customer_rank=customer_rank,
        policy=policy, reporter_verified=reporter_verified, number=f"T{secrets.token_hex(8)}",  # unique until numbered
    )
    apply_schedule(request, plan)
    with attachments.atomic_with_files() as stored:
        request.save(force_insert=True)
        request.number = f"SR{request.pk:07d}"
        ServiceRequest.objects.filter(pk=request.pk).update(number=request.number)
        for target in targets:
            target.request = request
        Target.objects.bulk_create(targets)
        if devices:
            through = ServiceRequest.devices.through
            through.objects.bulk_create([through(servicerequest_id=request.pk, device_id=device.pk) for device in devices])
        if plan.next_check_at:
            schedule_check_after_commit(request.pk, plan.next_check_at)
        created = record(request, EventKind.CREATED, actor=actor, at=now, changes=creation_changes(request),
                         priority=priority, channel=channel)
        for upload in uploads:
            stored.append(attachments.store(request, upload, by=actor))
        notices.send(
            "request_created", request, notices.desk(request),
            subject=_("New %(priority)s request %(number)s: %(title)s") % {
                "priority": Priority(priority).label, "number": request.number, "title": request.title},
            body=request.description, dedupe_key=f"created-{request.pk}",
        )
    # What was written, for an answer without reading it back (the API's create).
    request.written = Written(targets=targets, devices=sorted(devices, key=lambda device: (device.name, device.pk)),
                              events=[created])
    return request


@dataclass(frozen=True)
class Written:
    targets: list
    devices: list  # in Device's ordering
    events: list
