"""INS-4 (issue 23 §5): findings. A failed item or a reading out of its range is a Finding (one per device check and
item), written with the answer that flagged it, in the answer's transaction; its customer is told at once through the
outbox. One action turns it into a service request of the device (or, when the device has an open request already,
adds it to that one), or into a repair case, or dismisses it with a reason; a checklist item marked "open a request
automatically" does the first at once, when the answer arrives.

The request is opened through the service app's verb (`service.verbs.open_request`), with the device, a title and a
description naming the round, the item, the reading and the phone's time of the finding, and the answer's photo as an
attachment. `open_request` starts its SLA clocks at the moment it runs and takes no other start time: opened
automatically, that is the moment the finding reaches the server; opened by hand, the moment of the action (the
finding's own time is written in the description). A finding joining an open request is a comment on its timeline
(`service.verbs.comment`) and the photo an attachment (`service.verbs.add_attachments`). A repair case is opened by
`repairs.services.open_case` with `finding_ref`.

Each action is one transaction: the finding is locked, its version compared (a stale one is a 409 with nothing
written), and a RoundEvent line records it on the round."""

import logging
import os

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.versioning import claim_version

from .history import record
from .models import Answer, EventKind, Finding, FindingState, InspectionRound

EVENT = "inspection_finding"
logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------------ who hears, what

def customer_contacts(round_) -> list:
    return list(get_user_model().objects.filter(customer_id=round_.customer_id, is_active=True).order_by("pk"))


def _local(moment) -> str:
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def reading_text(item, answer) -> str:
    """What was found: "Fail", or the reading with its unit and valid range."""
    if answer.reading is not None:
        low = "…" if item.min_value is None else f"{item.min_value.normalize()}"
        high = "…" if item.max_value is None else f"{item.max_value.normalize()}"
        return _("reading %(reading)s %(unit)s (valid %(low)s – %(high)s)") % {
            "reading": answer.reading.normalize(), "unit": item.unit, "low": low, "high": high}
    return _("failed")


def describe(finding: Finding) -> str:
    """The lines a request, a comment, a repair case and the customer's notice carry."""
    round_, item, answer, device = finding.round, finding.item, finding.answer, finding.device
    lines = [
        _("Inspection round %(number)s, %(plan)s (%(period)s)") % {
            "number": round_.number, "plan": round_.plan.name, "period": round_.period_label},
        _("Device: %(name)s, %(model)s, serial number %(serial)s") % {
            "name": device.name, "model": device.model, "serial": device.serial_number},
        _("Location: %(location)s") % {"location": device.location} if device.location else "",
        _("Item: %(item)s, %(result)s") % {"item": item.label, "result": reading_text(item, answer)},
        _("Note: %(note)s") % {"note": answer.note} if answer.note else "",
        _("Found at %(found)s (phone), received at %(received)s (server)") % {
            "found": _local(finding.found_at), "received": _local(finding.received_at)},
        _("Photo attached.") if answer.photo else "",
    ]
    return "\n".join(line for line in lines if line)


def title_of(finding: Finding) -> str:
    return (_("[Inspection] %(device)s: %(item)s") % {"device": finding.device.name, "item": finding.item.label})[:200]


def _photos(finding: Finding) -> list:
    """The answer's photo as a new upload for the service app (it stores its own copy)."""
    photo = finding.answer.photo
    if not photo:
        return []
    try:
        with photo.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError, ValueError):
        logger.warning("inspection photo of answer %s is missing", finding.answer_id)
        return []
    extension = os.path.splitext(photo.name)[1][:8] or ".png"
    return [ContentFile(data, name=f"{finding.round.number}-{finding.device_id}-{finding.item.position}{extension}")]


def _notify_customer(finding: Finding) -> None:
    from aftersales.notify import services as notify

    round_ = finding.round
    notify.enqueue(event=EVENT, about=round_, recipients=customer_contacts(round_),
                   subject=_("Inspection finding on %(device)s: %(item)s") % {
                       "device": finding.device.name, "item": finding.item.label},
                   body=describe(finding), url=reverse("inspections:findings", args=[round_.pk]),
                   dedupe_key=f"ins-finding-{finding.pk}")


# ------------------------------------------------------------------------------------------------ from the answers

def after_answer(*, round_: InspectionRound, check, item, answer: Answer, by) -> Finding | None:
    """Called by `services.record_answer` in its transaction when an answer becomes the item's current one. A finding
    is written (and its customer told, once) the first time the item is flagged; a newer flagged answer replaces the
    evidence of a finding still open; a passing answer dismisses a finding still open. An item that opens a request
    automatically does so now; if that fails, the finding stays open for the desk and the answer is kept."""
    finding = Finding.objects.select_for_update().filter(device_check=check, item=item).first()
    now = answer.received_at
    if not answer.finding:
        if finding is not None and finding.is_open:
            reason = _("A later answer to this item passed.")
            _settle(finding, FindingState.DISMISSED, by=by, at=now, automatic=True, dismissed_reason=reason)
            record(round_, EventKind.FINDING_DISMISSED, actor=_user(by), at=now, note=reason, finding=finding.pk)
        return finding
    if finding is None:
        finding = Finding.objects.create(round=round_, customer_id=round_.customer_id, branch_id=round_.branch_id,
                                         device_check=check, device_id=check.device_id, item=item, answer=answer,
                                         found_at=answer.answered_at, received_at=now)
        finding.round, finding.item, finding.answer = round_, item, answer
        _notify_customer(finding)
    elif finding.is_open or (finding.state == FindingState.DISMISSED and finding.automatic):
        finding.answer, finding.found_at, finding.received_at = answer, answer.answered_at, now
        finding.state, finding.dismissed_reason, finding.automatic = FindingState.OPEN, "", False
        finding.handled_at = finding.handled_by = None
        finding.version += 1
        finding.save()
    else:
        return finding  # handled already: the request or repair case carries it on
    if item.opens_request and finding.is_open:
        try:
            with transaction.atomic():  # a savepoint: a refusal leaves the finding open, the answer stored
                _to_request(finding, by=by, automatic=True)
        except DomainError as error:
            logger.warning("finding %s could not open a request automatically: %s", finding.pk, error.message)
    return finding


# ------------------------------------------------------------------------------------------------ the actions

def _user(by):
    return by if by is not None and by.is_authenticated else None


def _lock(finding, version) -> Finding:
    finding = (Finding.objects.select_for_update()
               .select_related("round__plan", "round__project", "device__project", "item", "answer")
               .get(pk=finding.pk))
    claim_version(finding, version)
    if not finding.is_open:
        raise IllegalTransition(_("This finding is handled already: %(state)s.")
                                % {"state": FindingState(finding.state).label})
    return finding


def _settle(finding, state, *, by, at, automatic=False, **fields) -> None:
    finding.state, finding.handled_at, finding.handled_by, finding.automatic = state, at, _user(by), automatic
    for name, value in fields.items():
        setattr(finding, name, value)
    finding.version += 1
    finding.save(update_fields=["state", "handled_at", "handled_by", "automatic", "version", *fields])


def open_request_of(device, by):
    """The device's newest open service request the actor may see, if any."""
    from aftersales.service import selectors as service_selectors

    return service_selectors.open_requests(by).filter(devices=device).order_by("-created_at", "-pk").first()


def _to_request(finding: Finding, *, by, automatic: bool) -> Finding:
    from aftersales.service import verbs
    from aftersales.service.models import Channel, Priority

    now = clock.now()
    round_ = finding.round
    existing = open_request_of(finding.device, by) if by is not None else None
    if existing is not None:
        verbs.comment(request=existing, by=_user(by), text=describe(finding))
        photos = _photos(finding)
        if photos:
            verbs.add_attachments(request=existing, by=_user(by), uploads=photos)
        _settle(finding, FindingState.JOINED_REQUEST, by=by, at=now, automatic=automatic, service_request=existing)
        record(round_, EventKind.FINDING_JOINED, actor=_user(by), at=now, finding=finding.pk,
               request=existing.number, automatic=automatic)
        return finding
    request = verbs.open_request(by=_user(by), project=round_.project, priority=Priority.GENERAL,
                                 channel=Channel.ONSITE, title=title_of(finding), description=describe(finding),
                                 devices=[finding.device], uploads=_photos(finding), reported_at=finding.found_at)
    _settle(finding, FindingState.REQUEST_OPENED, by=by, at=now, automatic=automatic, service_request=request)
    record(round_, EventKind.FINDING_REQUEST, actor=_user(by), at=now, finding=finding.pk, request=request.number,
           automatic=automatic)
    return finding


@transaction.atomic
def raise_request(*, finding: Finding, by, version: int) -> Finding:
    """The finding becomes a service request of its device, or joins the device's open request."""
    finding = _lock(finding, version)
    return _to_request(finding, by=by, automatic=False)


@transaction.atomic
def open_repair(*, finding: Finding, by, version: int) -> Finding:
    """The finding becomes a repair case of its device (repairs.services.open_case, `finding_ref` naming it)."""
    from aftersales.repairs import services as repairs

    finding = _lock(finding, version)
    now = clock.now()
    case = repairs.open_case(by=by, device=finding.device, fault=describe(finding),
                             finding_ref=f"{finding.round.number} #{finding.pk}")
    _settle(finding, FindingState.REPAIR_OPENED, by=by, at=now, repair_case=case)
    record(finding.round, EventKind.FINDING_REPAIR, actor=_user(by), at=now, finding=finding.pk, case=case.number)
    return finding


@transaction.atomic
def dismiss(*, finding: Finding, by, version: int, reason: str) -> Finding:
    """Nothing to do (cleaned on the spot, a false reading): the reason is kept."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the finding needs nothing more."), field="reason")
    finding = _lock(finding, version)
    now = clock.now()
    _settle(finding, FindingState.DISMISSED, by=by, at=now, dismissed_reason=reason)
    record(finding.round, EventKind.FINDING_DISMISSED, actor=_user(by), at=now, note=reason, finding=finding.pk)
    return finding


ACTIONS = {"request": raise_request, "repair": open_repair, "dismiss": dismiss}
