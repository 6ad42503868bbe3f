"""TRN-1, TRN-2 (issue 23 §9): the verbs on training sessions and handover checklists, the only writers of those rows.

Each verb is one transaction: it locks the row, compares the version the user saw (a stale one is a 409 with nothing
written), checks the state (a session moves planned → held → signed, or planned → cancelled; anything else is a 409
naming the state), writes, records a TrainingLog line and, where someone must hear of it, an outbox row.
Keyword-only arguments, the actor passed in, the clock read once."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.versioning import claim_version
from aftersales.notify import services as notify
from aftersales.service import attachments

from .models import (
    RATING_MAX,
    RATING_MIN,
    Attendee,
    HandoverItem,
    LogKind,
    SessionKind,
    SessionState,
    SignedVia,
    TrainingFeedback,
    TrainingLog,
    TrainingMaterial,
    TrainingSession,
    Venue,
)

SIGNATURE_MAX_BYTES = 1024 * 1024
MAX_ATTENDEES = 200
MAX_TRAINERS = 20

# TRN-2: the capabilities a customer's staff must show before the project runs on its own (the seed: 基本的操作,
# 独立进行系统管理和异常情况处理). A project starts from these and may add its own.
STANDARD_CHECKLIST = [
    gettext_noop("Operate the video platform: live view, switch cameras, PTZ"),
    gettext_noop("Play back recordings and export a clip"),
    gettext_noop("Add users and set their permissions"),
    gettext_noop("Handle a camera that goes offline"),
    gettext_noop("Handle a disk alarm on the recorder"),
    gettext_noop("Restart the equipment safely"),
    gettext_noop("Know who to call and how to report a problem"),
]


class Conflict(DomainError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class AttendeeIn:
    """One of the customer's staff to invite: name, position, phone."""

    name: str
    role: str = ""
    phone: str = ""


# ------------------------------------------------------------------------------------------------ building blocks



def log(project, kind: str, *, actor, at, session=None, item=None, **data) -> TrainingLog:
    return TrainingLog.objects.create(project_id=project.pk, customer_id=project.customer_id,
                                      branch_id=project.branch_id, session=session, item=item, kind=kind, at=at,
                                      actor=actor if actor is not None and actor.is_authenticated else None, data=data)


def lock_session(session, version) -> TrainingSession:
    session = TrainingSession.objects.select_for_update().select_related("project").get(pk=session.pk)
    claim_version(session, version)
    return session


def require_state(session, *states, message) -> None:
    if session.state not in states:
        raise IllegalTransition(message + " " + _("This session is “%(state)s”.")
                                % {"state": SessionState(session.state).label})


def _text(value, field, message, *, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(message, field=field)
    return value


def _times(starts_at: datetime, ends_at: datetime) -> None:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is None or not is_plausible(value):
            raise DomainError(implausible_message(), field=name)
    if ends_at <= starts_at:
        raise DomainError(_("A session must end after it starts."), field="ends_at")


def _choice(value, choices, field, message) -> str:
    if value not in choices.values:
        raise DomainError(message, field=field)
    return value


def _trainers(trainers, vendor_trainers: str) -> tuple[list, str]:
    trainers = list(dict.fromkeys(trainers or ()))
    if any(user.customer_id for user in trainers):
        raise DomainError(_("A trainer of ours is a staff member, not a customer's user."), field="trainers")
    if len(trainers) > MAX_TRAINERS:
        raise DomainError(_("At most %(n)s trainers.") % {"n": MAX_TRAINERS}, field="trainers")
    vendor_trainers = (vendor_trainers or "").strip()
    if not trainers and not vendor_trainers:
        raise DomainError(_("Name at least one trainer: one of ours or the vendor's."), field="trainers")
    return trainers, vendor_trainers


def _attendees(attendees) -> list[AttendeeIn]:
    cleaned = []
    for row in attendees or ():
        name = (row.name or "").strip()
        if not name:
            raise DomainError(_("Every attendee needs a name."), field="attendees")
        if len(name) > 100 or len(row.role or "") > 100 or len(row.phone or "") > 40:
            raise DomainError(_("An attendee's name or position is too long."), field="attendees")
        cleaned.append(AttendeeIn(name=name, role=(row.role or "").strip(), phone=(row.phone or "").strip()))
    if len(cleaned) > MAX_ATTENDEES:
        raise DomainError(_("At most %(n)s attendees.") % {"n": MAX_ATTENDEES}, field="attendees")
    return cleaned


def customer_contacts(session) -> list:
    """The customer's users who hear of the session: every active contact of its customer."""
    return list(get_user_model().objects.filter(customer_id=session.customer_id, is_active=True).order_by("pk"))


def staff_of(session) -> list:
    """Who hears that the feedback is signed: our trainers and whoever planned the session."""
    people = {user.pk: user for user in session.trainers.filter(is_active=True)}
    if session.planned_by_id and session.planned_by.is_active:
        people.setdefault(session.planned_by_id, session.planned_by)
    return list(people.values())


# ------------------------------------------------------------------------------------------------ sessions (TRN-1)

@transaction.atomic
def plan_session(*, by, project, title: str, kind: str, venue: str, starts_at: datetime, ends_at: datetime,
                 content: str, place: str = "", trainers=(), vendor_trainers: str = "", attendees=()) -> TrainingSession:
    """Plan a session of a project: when and where, who trains (ours, the vendor's) and whom (the customer's staff)."""
    title = _text(title, "title", _("Give the session a title."))
    _choice(kind, SessionKind, "kind", _("Choose the kind of training."))
    _choice(venue, Venue, "venue", _("Choose where the training is held."))
    _times(starts_at, ends_at)
    content = _text(content, "content", _("Describe the content of the training."))
    trainers, vendor_trainers = _trainers(trainers, vendor_trainers)
    if kind == SessionKind.JOINT_WITH_VENDOR and not vendor_trainers:
        raise DomainError(_("A session joint with the vendor names the vendor's trainers."), field="vendor_trainers")
    attendees = _attendees(attendees)
    session = TrainingSession.objects.create(
        project=project, customer_id=project.customer_id, branch_id=project.branch_id, title=title, kind=kind,
        venue=venue, place=(place or "").strip(), starts_at=starts_at, ends_at=ends_at, content=content,
        vendor_trainers=vendor_trainers, planned_by=by)
    session.trainers.set(trainers)
    Attendee.objects.bulk_create([Attendee(session=session, name=a.name, role=a.role, phone=a.phone) for a in attendees])
    log(project, LogKind.PLANNED, actor=by, at=clock.now(), session=session, title=title,
        starts_at=starts_at.isoformat(), attendees=len(attendees))
    return session


@transaction.atomic
def change_plan(*, session, by, version: int, title: str, kind: str, venue: str, starts_at: datetime,
                ends_at: datetime, content: str, place: str = "", trainers=(), vendor_trainers: str = "") -> TrainingSession:
    """Change the plan of a session not yet held."""
    title = _text(title, "title", _("Give the session a title."))
    _choice(kind, SessionKind, "kind", _("Choose the kind of training."))
    _choice(venue, Venue, "venue", _("Choose where the training is held."))
    _times(starts_at, ends_at)
    content = _text(content, "content", _("Describe the content of the training."))
    trainers, vendor_trainers = _trainers(trainers, vendor_trainers)
    if kind == SessionKind.JOINT_WITH_VENDOR and not vendor_trainers:
        raise DomainError(_("A session joint with the vendor names the vendor's trainers."), field="vendor_trainers")
    session = lock_session(session, version)
    require_state(session, SessionState.PLANNED, message=_("Only a planned session can be changed."))
    fields = {"title": title, "kind": kind, "venue": venue, "place": (place or "").strip(), "starts_at": starts_at,
              "ends_at": ends_at, "content": content, "vendor_trainers": vendor_trainers}
    changes = {}
    for name, value in fields.items():
        old = getattr(session, name)
        if old != value:
            changes[name] = [_shown(old), _shown(value)]
            setattr(session, name, value)
    session.save(update_fields=[*fields, "updated_at"])
    before = set(session.trainers.values_list("pk", flat=True))
    if before != {user.pk for user in trainers}:
        session.trainers.set(trainers)
        changes["trainers"] = [sorted(before), sorted(user.pk for user in trainers)]
    log(session.project, LogKind.CHANGED, actor=by, at=clock.now(), session=session, changes=changes)
    return session


def _shown(value):
    if value is None or isinstance(value, str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@transaction.atomic
def add_attendee(*, session, by, version: int, name: str, role: str = "", phone: str = "") -> Attendee:
    """Invite one more of the customer's staff to a planned session."""
    row = _attendees([AttendeeIn(name=name, role=role, phone=phone)])[0]
    session = lock_session(session, version)
    require_state(session, SessionState.PLANNED, message=_("Attendees are invited while the session is planned; "
                                                           "walk-ins are recorded with the attendance."))
    if session.attendees.count() >= MAX_ATTENDEES:
        raise DomainError(_("At most %(n)s attendees.") % {"n": MAX_ATTENDEES}, field="name")
    attendee = Attendee.objects.create(session=session, name=row.name, role=row.role, phone=row.phone)
    log(session.project, LogKind.ATTENDEE_ADDED, actor=by, at=clock.now(), session=session, attendee=attendee.pk,
        name=row.name)
    return attendee


@transaction.atomic
def remove_attendee(*, attendee, by, version: int) -> TrainingSession:
    """Take an invitation back while the session is planned (`version` is the session's)."""
    session = lock_session(attendee.session, version)
    require_state(session, SessionState.PLANNED, message=_("Attendees are changed while the session is planned."))
    deleted, _rows = Attendee.objects.filter(pk=attendee.pk, session=session).delete()
    if not deleted:
        raise StaleObject()
    log(session.project, LogKind.ATTENDEE_REMOVED, actor=by, at=clock.now(), session=session, name=attendee.name)
    return session


@contextmanager
def files_removed_on_failure():
    """Files stored inside the block are deleted again if the transaction fails: a refused upload leaves nothing."""
    stored = []
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise


def add_material(*, session, by, upload) -> TrainingMaterial:
    """A handout, slides or a manual of a session (checked like a request's attachments: size and content type).
    Files are added beside the session, not into it: no version is compared, so adding one never turns a mailed
    feedback link stale. A cancelled session takes none."""
    if upload is None:
        raise DomainError(_("Choose a file."), field="file")
    try:
        content_type = attachments.check_upload(upload)
    except DomainError as error:
        raise DomainError(error.message, field="file") from None
    with files_removed_on_failure() as stored:
        session = TrainingSession.objects.select_for_update().select_related("project").get(pk=session.pk)
        if session.state == SessionState.CANCELLED:
            raise IllegalTransition(_("A cancelled session takes no materials."))
        now = clock.now()
        material = TrainingMaterial(session=session, original_name=(upload.name or "file")[:255],
                                    content_type=content_type, size=upload.size, uploaded_by=_user(by), uploaded_at=now)
        material.file.save(upload.name or "file", upload, save=False)
        stored.append(material.file)
        material.save()
        log(session.project, LogKind.MATERIAL_ADDED, actor=by, at=now, session=session, material=material.pk,
            name=material.original_name)
    return material


def _user(by):
    return by if by is not None and by.is_authenticated else None


@transaction.atomic
def record_held(*, session, by, version: int, present=(), walk_ins=(), summary: str = "") -> TrainingSession:
    """The session took place: who attended (ids of invited attendees present, and walk-ins), what was covered. The
    customer's contacts get the signed feedback link (TRN-1: 培训结果将以书面形式进行反馈,并由用户签字确认)."""
    walk_ins = _attendees(walk_ins)
    summary = (summary or "").strip()
    session = lock_session(session, version)
    require_state(session, SessionState.PLANNED, message=_("Only a planned session can be recorded as held."))
    now = clock.now()
    if session.starts_at > now:
        raise DomainError(_("The session starts at %(time)s: it cannot be recorded as held before it began.")
                          % {"time": session.starts_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")}, field="present")
    invited = set(session.attendees.values_list("pk", flat=True))
    present = {getattr(p, "pk", p) for p in present or ()}
    if present - invited:
        raise DomainError(_("Only invited attendees of this session can be marked present."), field="present")
    if not present and not walk_ins:
        raise DomainError(_("Mark who attended: a session nobody attended was not held."), field="present")
    if len(invited) + len(walk_ins) > MAX_ATTENDEES:
        raise DomainError(_("At most %(n)s attendees.") % {"n": MAX_ATTENDEES}, field="walk_ins")
    session.attendees.filter(pk__in=present).update(attended=True)
    session.attendees.exclude(pk__in=present).update(attended=False)
    Attendee.objects.bulk_create([Attendee(session=session, name=a.name, role=a.role, phone=a.phone, attended=True)
                                  for a in walk_ins])
    session.state, session.held_at, session.held_recorded_by, session.summary = SessionState.HELD, now, by, summary
    session.save(update_fields=["state", "held_at", "held_recorded_by", "summary", "updated_at"])
    log(session.project, LogKind.HELD, actor=by, at=now, session=session, present=len(present) + len(walk_ins),
        invited=len(invited))
    send_feedback_link(session)
    return session


def send_feedback_link(session) -> None:
    """The mail asking the customer's contacts for the signed feedback, with the signed link (inside the caller's
    transaction; the token carries the session's version now, so a later change of version voids it)."""
    from .links import feedback_url

    contacts = customer_contacts(session)
    notify.enqueue(event="training_feedback_needed", about=session, recipients=contacts,
                   subject=_("Please sign the feedback on the training “%(title)s”") % {"title": session.title},
                   body=_("%(project)s · %(number)s, held on %(date)s. Please give your evaluation and sign.")
                   % {"project": session.project.name, "number": session.number,
                      "date": session.starts_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d")},
                   url=feedback_url(session), dedupe_key=f"trn-feedback-{session.pk}-v{session.version}")


@transaction.atomic
def resend_feedback_link(*, session, by, version: int) -> TrainingSession:
    """A new link (an old one expired, or went to the wrong person): the version moves on, so earlier links stop
    working."""
    session = lock_session(session, version)
    require_state(session, SessionState.HELD, message=_("Only a session awaiting feedback has a feedback link."))
    log(session.project, LogKind.LINK_SENT, actor=by, at=clock.now(), session=session)
    send_feedback_link(session)
    return session


def check_signature(signature) -> None:
    """The signature is required: a PNG drawn on screen, at most 1 MB."""
    if signature is None:
        raise DomainError(_("Please sign in the box."), field="signature")
    size = getattr(signature, "size", None)
    head = signature.read(16)
    signature.seek(0)
    if size is None or size > SIGNATURE_MAX_BYTES or attachments.sniff(head) != "image/png":
        raise DomainError(_("The signature could not be read. Please sign again."), field="signature")


@transaction.atomic
def sign_feedback(*, session, version: int, via: str, evaluation: str, rating: int, signer_name: str,
                  signature, opinions: str = "", by=None, on_screen_of=None) -> TrainingFeedback:
    """TRN-1: the customer's written feedback on a held session, signed. `via` says where: on our engineer's screen
    (`on_screen_of`, the signer has no login), in the portal (`by`, the customer's user) or through the mailed link
    (`by` the customer's user if logged in, else None)."""
    _choice(via, SignedVia, "via", _("Say how the feedback was signed."))
    evaluation = _text(evaluation, "evaluation", _("Give the evaluation of the training."))
    signer_name = _text(signer_name, "signer_name", _("Give the name of the person signing."))
    if len(signer_name) > 100:
        raise DomainError(_("The name is too long."), field="signer_name")
    if rating is None or not RATING_MIN <= rating <= RATING_MAX:
        raise DomainError(_("Rate from 1 to 5."), field="rating")
    check_signature(signature)
    session = lock_session(session, version)
    if by is not None and by.is_authenticated and by.customer_id not in (None, session.customer_id):
        raise DomainError(_("Only the session's customer signs its feedback."), field=None)
    require_state(session, SessionState.HELD, message=_("Feedback is signed for a session that was held and awaits it."))
    now = clock.now()
    with files_removed_on_failure() as stored:
        feedback = TrainingFeedback(session=session, evaluation=evaluation, opinions=(opinions or "").strip(),
                                    rating=rating, signer_name=signer_name, signed_via=via, signed_at=now,
                                    signed_by=_user(by) if by is not None and by.customer_id else None,
                                    recorded_by=_user(on_screen_of))
        feedback.signature.save("signature.png", signature, save=False)
        stored.append(feedback.signature)
        feedback.save()
        session.state = SessionState.SIGNED
        session.save(update_fields=["state", "updated_at"])
    log(session.project, LogKind.SIGNED, actor=_user(by) or _user(on_screen_of), at=now, session=session, via=via,
        signer=signer_name, rating=rating)
    notify.enqueue(event="training_feedback_signed", about=session, recipients=staff_of(session),
                   subject=_("%(number)s: the customer signed the training feedback (%(rating)s/5)")
                   % {"number": session.number, "rating": rating},
                   body=evaluation, dedupe_key=f"trn-signed-{session.pk}")
    return feedback


@transaction.atomic
def cancel_session(*, session, by, version: int, reason: str) -> TrainingSession:
    reason = _text(reason, "reason", _("Say why the session is cancelled."))
    session = lock_session(session, version)
    require_state(session, SessionState.PLANNED, message=_("Only a planned session can be cancelled."))
    now = clock.now()
    session.state, session.cancelled_at, session.cancel_reason = SessionState.CANCELLED, now, reason
    session.save(update_fields=["state", "cancelled_at", "cancel_reason", "updated_at"])
    log(session.project, LogKind.CANCELLED, actor=by, at=now, session=session, reason=reason)
    contacts = customer_contacts(session)
    notify.enqueue(event="training_cancelled", about=session, recipients=contacts,
                   subject=_("The training “%(title)s” is cancelled") % {"title": session.title}, body=reason,
                   dedupe_key=f"trn-cancelled-{session.pk}")
    return session


# ------------------------------------------------------------------------------------------------ handover (TRN-2)

def _next_position(project) -> int:
    return (HandoverItem.objects.filter(project=project).aggregate(top=Max("position"))["top"] or 0) + 1


@transaction.atomic
def add_checklist_item(*, project, by, capability: str) -> HandoverItem:
    """One more capability on the project's checklist."""
    capability = _text(capability, "capability", _("Name the capability."))
    if len(capability) > 200:
        raise DomainError(_("At most 200 characters."), field="capability")
    now = clock.now()
    try:
        with transaction.atomic():
            item = HandoverItem.objects.create(project=project, customer_id=project.customer_id,
                                               branch_id=project.branch_id, capability=capability,
                                               position=_next_position(project))
    except IntegrityError:
        raise Conflict(_("This capability is on the checklist already."), field="capability") from None
    log(project, LogKind.ITEM_ADDED, actor=by, at=now, item=item, capability=capability)
    return item


@transaction.atomic
def start_checklist(*, project, by) -> list[HandoverItem]:
    """The standard capabilities (STANDARD_CHECKLIST, in the UI's language) that the project's list lacks."""
    existing = set(HandoverItem.objects.filter(project=project).values_list("capability", flat=True))
    added = []
    for capability in STANDARD_CHECKLIST:
        text = _(capability)
        if text not in existing:
            added.append(add_checklist_item(project=project, by=by, capability=text))
    return added


def lock_item(item, version) -> HandoverItem:
    item = HandoverItem.objects.select_for_update().select_related("project").get(pk=item.pk)
    claim_version(item, version)
    return item


@transaction.atomic
def mark_demonstrated(*, item, by, version: int, demonstrated_by: str, demonstrated_on: date | None = None,
                      session=None, note: str = "") -> HandoverItem:
    """The customer's staff member `demonstrated_by` did it alone, on `demonstrated_on` (default today), in `session`
    (a session of the same project that was held) or during the monitoring after commissioning (no session)."""
    demonstrated_by = _text(demonstrated_by, "demonstrated_by", _("Name the customer's staff member who did it."))
    if len(demonstrated_by) > 100:
        raise DomainError(_("The name is too long."), field="demonstrated_by")
    today = clock.today()
    demonstrated_on = demonstrated_on or today
    if not is_plausible(demonstrated_on):
        raise DomainError(implausible_message(), field="demonstrated_on")
    if demonstrated_on > today:
        raise DomainError(_("A capability cannot be demonstrated in the future."), field="demonstrated_on")
    item = lock_item(item, version)
    if item.done:
        raise IllegalTransition(_("This capability is marked as demonstrated already."))
    if session is not None:
        if session.project_id != item.project_id:
            raise DomainError(_("Choose a session of this project."), field="session")
        if session.state not in (SessionState.HELD, SessionState.SIGNED):
            raise DomainError(_("Choose a session that was held."), field="session")
    now = clock.now()
    item.demonstrated_by, item.demonstrated_on, item.session = demonstrated_by, demonstrated_on, session
    item.note, item.recorded_by, item.recorded_at = (note or "").strip(), _user(by), now
    item.save(update_fields=["demonstrated_by", "demonstrated_on", "session", "note", "recorded_by", "recorded_at",
                             "updated_at"])
    log(item.project, LogKind.DEMONSTRATED, actor=by, at=now, item=item, session=session,
        capability=item.capability, demonstrated_by=demonstrated_by, on=demonstrated_on.isoformat())
    return item


@transaction.atomic
def reopen_item(*, item, by, version: int, reason: str) -> HandoverItem:
    """Take a mark back (entered by mistake, or the staff member left): the project no longer runs independently
    until someone demonstrates it again. The mark stays in the log."""
    reason = _text(reason, "reason", _("Say why the mark is taken back."))
    item = lock_item(item, version)
    if not item.done:
        raise IllegalTransition(_("This capability is not marked as demonstrated."))
    before = {"demonstrated_by": item.demonstrated_by, "on": item.demonstrated_on.isoformat(),
              "session": item.session_id}
    item.demonstrated_by, item.demonstrated_on, item.session, item.recorded_by, item.recorded_at = "", None, None, None, None
    item.save(update_fields=["demonstrated_by", "demonstrated_on", "session", "recorded_by", "recorded_at",
                             "updated_at"])
    log(item.project, LogKind.REOPENED, actor=by, at=clock.now(), item=item, reason=reason, before=before)
    return item
