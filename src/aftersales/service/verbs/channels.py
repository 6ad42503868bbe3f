"""Verbs for the intake channels (mail, QR labels, monitoring alarms): what they add to requests besides opening
them. The channels write requests only through these and `open_request`."""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition

from .. import attachments, notices, part_lines
from ..clock import recompute
from ..models import OPEN_STATES, EventKind, ServiceRequest, State
from ..timeline import bump_version, lock_request, move, record
from .opening import open_request

CHANNEL_EVENTS = (EventKind.MAIL, EventKind.ALARM_RAISED, EventKind.ALARM_CLEARED, EventKind.ATTACHMENT)


def record_channel_event(*, request, kind: str, by=None, at=None, text: str = "", **data):
    """A mail, an alarm's raise or recovery, or the files of a mail, added to a request's timeline."""
    if kind not in CHANNEL_EVENTS:
        raise ValueError(f"not a channel event: {kind}")
    return record(request, kind, actor=by, at=at, text=text, **data)


@transaction.atomic
def close_as_recovered(*, request, text: str, at=None, **data) -> ServiceRequest:
    """The device recovered and nobody was dispatched: NEW/REPLIED → CANCELLED, recorded as a recovery (the state
    machine has no 'recovered' state; the timeline says why). A desk form open on the old version gets a 409."""
    request = lock_request(request)
    now = at or clock.now()
    bump_version(request)
    move(request, State.CANCELLED)
    request.save(update_fields=["state", "updated_at"])
    part_lines.release_reserved(request=request, by=None)
    recompute(request, now=now)
    record(request, EventKind.ALARM_CLEARED, at=now, text=text, closed=True, **data)
    notices.send(
        "alarm_recovered", request, notices.desk(request),
        subject=_("%(number)s closed: the device recovered") % {"number": request.number}, body=text,
        dedupe_key=f"alarm-recovered-{request.pk}-{request.version}",
    )
    return request


def add_label_report(*, request, device, reporter_name: str, reporter_phone: str, description: str,
                     uploads=()) -> None:
    """Issue 21 §3: someone scanned the label of a device whose fault is already being handled, and added what they
    see to that request instead of opening a second one. A comment line on the timeline naming the reporter and the
    device, the photo as an attachment, and a notice to whoever handles it (or the desk). All or nothing."""
    with attachments.atomic_with_files() as stored:
        request = lock_request(request)
        if request.state not in OPEN_STATES:
            raise IllegalTransition(_("This report is closed already. Send a new report."))
        now = clock.now()
        text = f"{description.strip()}\n— {reporter_name} {reporter_phone}"
        record(request, EventKind.COMMENT, at=now, text=text, via="label", device=device.pk,
               reporter_name=reporter_name, reporter_phone=reporter_phone)
        for upload in uploads:
            stored.append(attachments.store(request, upload, by=None))
        if stored:
            record(request, EventKind.ATTACHMENT, at=now, files=[a.original_name for a in stored], via="label")
        recipients = [request.assignee] if request.assignee_id else notices.desk(request)
        notices.send("label_report_added", request, recipients,
                     subject=_("%(number)s: another report from the label of %(device)s")
                     % {"number": request.number, "device": device.name},
                     body=text, dedupe_key=f"label-added-{request.pk}-{now.timestamp()}")


@transaction.atomic
def verify_reporter(*, request, by) -> ServiceRequest:
    """The desk called the reporter of a public label report back (or otherwise checked it)."""
    request = lock_request(request)
    if request.reporter_verified:
        raise IllegalTransition(_("The reporter is verified already."))
    request.reporter_verified = True
    request.save(update_fields=["reporter_verified", "updated_at"])
    record(request, EventKind.REPORTER_VERIFIED, actor=by)
    return request


@transaction.atomic
def open_follow_up(*, of, by, channel: str, description: str, title: str = "", note: str = "", **data) -> ServiceRequest:
    """A closed request's problem came back: open a new request for the same project, priority and devices, linked
    both ways on the timelines (`data` is added to both lines, e.g. the mail's id)."""
    if of.is_open:
        raise DomainError(_("Only a closed request can have a follow-up."))
    follow_up = open_request(
        by=by, project=of.project, priority=of.priority, channel=channel, devices=list(of.devices.all()),
        title=(title or _("Follow-up of %(number)s: %(title)s") % {"number": of.number, "title": of.title})[:200],
        description=description or of.title,
    )
    record(follow_up, EventKind.MAIL if channel == "email" else EventKind.COMMENT, actor=by,
           text=note or _("Follow-up of the closed request %(number)s.") % {"number": of.number},
           follow_up_of=of.pk, follow_up_of_number=of.number, **data)
    record(of, EventKind.MAIL if channel == "email" else EventKind.COMMENT, actor=by,
           text=(_("Reopened by mail as %(number)s.") if channel == "email" else _("Reopened as %(number)s."))
           % {"number": follow_up.number},
           follow_up=follow_up.pk, follow_up_number=follow_up.number, **data)
    return follow_up
