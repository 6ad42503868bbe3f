"""LOG-3 (issue 25 §4): the verbs on change notices, the only writers of those rows.

Each verb is one transaction: it compares the version the user saw (a stale one is a 409 with nothing written),
checks the state (a step the state does not allow is a 409 naming the state), writes, and puts the notifications in
the outbox in the same transaction: the desk of the project's branch hears of a new or withdrawn notice, the
customer's submitter of our answer. Keyword-only arguments, the actor passed in, the clock read once."""

from contextlib import contextmanager
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.versioning import claim_version
from aftersales.notify import services as notify
from aftersales.service import attachments, notices

from . import deadlines
from .models import (
    OPEN_STATES,
    WITHDRAWABLE_STATES,
    ChangeKind,
    ChangeNotice,
    CompatibilityTest,
    NoticeChannel,
    NoticeState,
    TestResult,
    Verdict,
)

MAX_DEVICES = 200
EVIDENCE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"})
EVIDENCE_MAX_BYTES = attachments.MAX_BYTES


# ------------------------------------------------------------------------------------------------ building blocks

def local(value: datetime) -> str:
    """A time as the customer and the desk read it: Asia/Shanghai, to the minute."""
    return value.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _text(value, field, message, *, required=True, max_length=None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(message, field=field)
    if max_length and len(value) > max_length:
        raise DomainError(_("At most %(n)s characters.") % {"n": max_length}, field=field)
    return value


def _choice(value, choices, field, message) -> str:
    if value not in choices.values:
        raise DomainError(message, field=field)
    return value


def require_state(notice, states, message) -> None:
    if notice.state not in states:
        raise IllegalTransition(message + " " + _("This notice is “%(state)s”.")
                                % {"state": NoticeState(notice.state).label})


def lock(notice, version) -> ChangeNotice:
    notice = ChangeNotice.objects.select_for_update().get(pk=notice.pk)
    claim_version(notice, version)
    return notice


def desk_of(notice) -> list:
    """The dispatchers of the project's branch (the desk)."""
    return notices.desk(notice)


def customer_side(notice) -> list:
    """Who hears our answer: the customer's user who submitted the notice; when staff entered it for the customer,
    every active contact of the customer."""
    submitter = notice.submitted_by
    if submitter.customer_id == notice.customer_id and submitter.is_active:
        return [submitter]
    return list(get_user_model().objects.filter(customer_id=notice.customer_id, is_active=True).order_by("pk"))


def _tell(event, notice, recipients, *, subject, body, key) -> None:
    notify.enqueue(event=event, about=notice, recipients=[u for u in recipients if u is not None and u.is_active],
                   subject=subject, body=body, dedupe_key=f"{key}-{notice.pk}", url=notices.url_of(notice))


def _window(starts_at: datetime, ends_at: datetime, *, now: datetime, in_future: bool) -> None:
    for name, value in (("window_starts_at", starts_at), ("window_ends_at", ends_at)):
        if value is None or not is_plausible(value):
            raise DomainError(implausible_message(), field=name)
    if ends_at <= starts_at:
        raise DomainError(_("The window must end after it starts."), field="window_ends_at")
    if in_future and starts_at <= now:
        raise DomainError(_("Announce a change before it happens: the window must start in the future."),
                          field="window_starts_at")


# ------------------------------------------------------------------------------------------------ verbs

@transaction.atomic
def submit_notice(*, by, project, kind: str, title: str, description: str, window_starts_at: datetime,
                  window_ends_at: datetime, devices=(), channel: str | None = None) -> ChangeNotice:
    """LOG-3: the customer (portal or API), or staff for the customer, announces a planned change and its window.
    The answer's deadline is fixed now (deadlines.answer_due_at) and the desk of the project's branch is told."""
    now = clock.now()
    is_customer = bool(by.customer_id)
    if is_customer and by.customer_id != project.customer_id:
        raise DomainError(_("Choose one of your own projects."), field="project")
    if channel is None:
        channel = NoticeChannel.PORTAL if is_customer else NoticeChannel.STAFF
    if (channel == NoticeChannel.STAFF) == is_customer:
        raise DomainError(_("Only staff enter a notice on behalf of the customer."), field="channel")
    _choice(kind, ChangeKind, "kind", _("Choose the kind of change."))
    title = _text(title, "title", _("Give the change a title."), max_length=200)
    description = _text(description, "description", _("Describe the change: what, where, which versions."),
                        max_length=8000)
    _window(window_starts_at, window_ends_at, now=now, in_future=is_customer)
    devices = list(dict.fromkeys(devices or ()))
    if len(devices) > MAX_DEVICES:
        raise DomainError(_("At most %(n)s devices.") % {"n": MAX_DEVICES}, field="devices")
    if any(device.project_id != project.pk for device in devices):
        raise DomainError(_("The affected devices must be of the notice's project."), field="devices")
    due = deadlines.answer_due_at(now, window_starts_at)
    notice = ChangeNotice.objects.create(
        project=project, customer_id=project.customer_id, branch_id=project.branch_id, kind=kind, title=title,
        description=description, window_starts_at=window_starts_at, window_ends_at=window_ends_at, channel=channel,
        submitted_by=by, submitted_at=now, answer_due_at=due, warn_at=deadlines.due_soon_at(now, due))
    if devices:
        notice.devices.set(devices)
    _tell("change_notice_submitted", notice, desk_of(notice),
          subject=_("%(number)s: %(customer)s plans a change: %(title)s") % {
              "number": notice.number, "customer": project.customer.name, "title": title},
          body=_("Window %(start)s – %(end)s. Test compatibility and answer by %(due)s.") % {
              "start": local(window_starts_at), "end": local(window_ends_at),
              "due": local(due)},
          key="change-submitted")
    return notice


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


def check_evidence(upload) -> str:
    """Images, PDF or text, at most attachments.MAX_BYTES; the content decides, never the name."""
    try:
        content_type = attachments.check_upload(upload)
    except DomainError as error:
        raise DomainError(error.message, field="evidence_file") from None
    if content_type not in EVIDENCE_TYPES:
        raise DomainError(_("%(name)s is not an accepted file type (images, PDF or text).") % {"name": upload.name},
                          field="evidence_file")
    return content_type


def record_test(*, notice, by, version: int, subject: str, result: str, environment: str = "", evidence: str = "",
                evidence_file=None) -> CompatibilityTest:
    """LOG-3: a compatibility test of a notice awaiting our answer; the first one puts the notice under test."""
    subject = _text(subject, "subject", _("Say what was tested."), max_length=300)
    environment = _text(environment, "environment", "", required=False, max_length=300)
    _choice(result, TestResult, "result", _("Choose the result of the test."))
    evidence = _text(evidence, "evidence", "", required=False, max_length=8000)
    content_type = check_evidence(evidence_file) if evidence_file is not None else ""
    if not evidence and evidence_file is None:
        raise DomainError(_("Give the evidence: what was observed, or a file."), field="evidence")
    with files_removed_on_failure() as stored:
        notice = lock(notice, version)
        require_state(notice, OPEN_STATES, _("Tests are recorded while the notice awaits our answer."))
        now = clock.now()
        test = CompatibilityTest(notice=notice, subject=subject, environment=environment, result=result,
                                 evidence=evidence, tested_by=by, tested_at=now)
        if evidence_file is not None:
            name = (evidence_file.name or "evidence")[-255:]
            test.evidence_file.save(name, evidence_file, save=False)
            stored.append(test.evidence_file)
            test.evidence_name, test.evidence_type, test.evidence_size = name, content_type, evidence_file.size
        test.save()
        if notice.state == NoticeState.SUBMITTED:
            notice.state = NoticeState.UNDER_TEST
            notice.save(update_fields=["state"])
    return test


@transaction.atomic
def answer_notice(*, notice, by, version: int, verdict: str, answer: str) -> ChangeNotice:
    """LOG-3: our answer, after at least one compatibility test: compatible, compatible with conditions (the answer
    says which), or not compatible. The customer's submitter is told."""
    _choice(verdict, Verdict, "verdict", _("Choose the verdict."))
    answer = _text(answer, "answer", _("Write the answer to the customer."), max_length=8000)
    notice = lock(notice, version)
    require_state(notice, OPEN_STATES, _("Only a notice awaiting our answer can be answered."))
    if not notice.tests.exists():
        raise DomainError(_("Record at least one compatibility test before answering."), field="verdict")
    now = clock.now()
    notice.state, notice.verdict, notice.answer = NoticeState.ANSWERED, verdict, answer
    notice.answered_by, notice.answered_at = by, now
    notice.save(update_fields=["state", "verdict", "answer", "answered_by", "answered_at"])
    _tell("change_notice_answered", notice, customer_side(notice),
          subject=_("%(number)s: our answer to your planned change: %(verdict)s") % {
              "number": notice.number, "verdict": Verdict(verdict).label},
          body=answer, key="change-answered")
    return notice


@transaction.atomic
def withdraw_notice(*, notice, by, version: int, reason: str = "") -> ChangeNotice:
    """The customer calls the change off (or staff record that they did), until the window has ended."""
    reason = _text(reason, "reason", "", required=False, max_length=4000)
    notice = lock(notice, version)
    require_state(notice, WITHDRAWABLE_STATES, _("Only a notice whose change is still ahead can be withdrawn."))
    now = clock.now()
    if notice.window_ends_at <= now:
        raise IllegalTransition(_("The window has ended: the change is over."))
    notice.state, notice.withdrawn_by, notice.withdrawn_at, notice.withdraw_reason = (
        NoticeState.WITHDRAWN, by, now, reason)
    notice.save(update_fields=["state", "withdrawn_by", "withdrawn_at", "withdraw_reason"])
    _tell("change_notice_withdrawn", notice, desk_of(notice),
          subject=_("%(number)s withdrawn: %(title)s") % {"number": notice.number, "title": notice.title},
          body=reason, key="change-withdrawn")
    return notice
