"""What one stored message does, inside `ingest.process()`'s transaction: ignored (an automatic message or one
of ours), added to a request's timeline, a new request, a follow-up of a closed one, or left for the desk
(triage) with the reason; its attachments through the upload checks. The rules: the package's docstring."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.service import attachments as attachment_checks
from aftersales.service import notices, verbs
from aftersales.service.models import OPEN_STATES, Channel, EventKind, Priority, ServiceRequest, TimelineEvent

from ..models import InboundMail, MailState
from .matching import Sender, is_our_own_message, match_project, thread_by_headers, thread_by_subject
from .parsing import (
    SUBJECT_MAX, TITLE_MAX, MailFile, MalformedMail, ParsedMail, clip_text, parse, strip_quoted, title_of,
)

logger = logging.getLogger(__name__)

MAX_ATTACHMENTS = 20


def _conclude(mail, state, *, reason="", request=None, customer=None) -> None:
    mail.state, mail.reason = state, reason
    if request is not None:
        mail.request = request
        mail.customer_id = request.customer_id
    if customer is not None:
        mail.customer = customer
    level = logging.WARNING if state == MailState.REJECTED else logging.INFO
    logger.log(level, "inbound mail %s (%s from %s): %s%s", mail.pk, mail.message_id, mail.from_address or "?",
               state, f" — {reason}" if reason else "")


def route(mail: InboundMail, written: list) -> None:
    """Decide what the locked, stored message does and set its state and reason (the caller saves the row).
    `written`: attachments stored on the way, deleted by the caller if the transaction rolls back."""
    try:
        parsed = parse(bytes(mail.raw))
    except MalformedMail as error:
        _conclude(mail, MailState.REJECTED, reason=str(error))
        return
    mail.from_address = parsed.sender[:255]
    mail.subject = parsed.subject[:SUBJECT_MAX]
    if parsed.auto:
        _conclude(mail, MailState.IGNORED, reason=parsed.auto)
        return
    if is_our_own_message(parsed):
        _conclude(mail, MailState.IGNORED, reason=_("One of our own notifications came back."))
        return
    MailRouter(parsed).route(mail, written)


def store_files(request, files: list[MailFile], *, by, written: list) -> tuple[list[str], list[str]]:
    """Attachments through the upload checks; returns (stored names, refusals in words)."""
    stored, refused = [], []
    for index, item in enumerate(files):
        if index >= MAX_ATTACHMENTS:
            refused.append(_("%(name)s: more than %(n)s attachments in one message.") % {"name": item.name, "n": MAX_ATTACHMENTS})
            continue
        upload = ContentFile(item.content, name=item.name)
        try:
            attachment_checks.check_upload(upload)
            attachment = attachment_checks.store(request, upload, by=by)
        except DomainError as error:
            refused.append(str(error.message))
            continue
        except SuspiciousFileOperation:  # a name the storage will not take: refused like a bad type
            refused.append(_("%(name)s: the file name is not accepted.") % {"name": item.name})
            continue
        written.append(attachment)
        stored.append(attachment.original_name)
    return stored, refused


def refusal_note(refused: list[str]) -> str:
    return (_("Attachments not accepted:") + "\n" + "\n".join(f"- {line}" for line in refused)) if refused else ""


def record_files(request, *, stored, refused, by, mail) -> None:
    if stored or refused:
        verbs.record_channel_event(request=request, kind=EventKind.ATTACHMENT, by=by, text=refusal_note(refused),
                                   files=stored, refused=refused, mail=mail.pk)


def append_mail(mail: InboundMail, parsed: ParsedMail, request: ServiceRequest, *, actor, written: list,
                added_by=None, note: str = "") -> TimelineEvent:
    """Add the mail (text without the quoted history, attachments) to the request's timeline."""
    stored, refused = store_files(request, parsed.files, by=actor, written=written)
    parts = []
    if actor is None or added_by is not None:
        parts.append(_("From: %(sender)s") % {"sender": parsed.sender_label})
    if parsed.subject:
        parts.append(parsed.subject)
    body = clip_text(strip_quoted(parsed.text))
    text = "\n".join(parts) + ("\n\n" + body if body else "")
    if note:
        text += "\n\n" + note
    if refused:
        text += "\n\n" + refusal_note(refused)
    data = {"from": parsed.sender, "subject": parsed.subject, "mail": mail.pk, "files": stored, "refused": refused}
    if added_by is not None:
        data["added_by"] = added_by.display_name
    return verbs.record_channel_event(request=request, kind=EventKind.MAIL, by=added_by or actor, text=text.strip(),
                                      **data)


def notify_staff(request, mail: InboundMail, parsed: ParsedMail, *, sender_user) -> None:
    recipients = [user for user in [request.assignee, *notices.desk(request)] if user and user != sender_user]
    notices.send(
        "request_mail", request, recipients,
        subject=_("Mail from %(sender)s on %(number)s: %(subject)s") % {
            "sender": parsed.sender_name or parsed.sender, "number": request.number, "subject": parsed.subject or "…"},
        body=clip_text(strip_quoted(parsed.text)), dedupe_key=f"mail-{mail.pk}",
    )


def reopen_days() -> int:
    return int(getattr(settings, "AFTERSALES_MAIL_REOPEN_DAYS", 7))


def reopen_interval() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "AFTERSALES_MAIL_REOPEN_INTERVAL_MINUTES", 60)))


def follow_up_events(request):
    return TimelineEvent.objects.filter(request=request, kind=EventKind.MAIL, data__has_key="follow_up")


class MailRouter:
    """The decision for a person's mail, by who sent it (`matching.Sender`) and what it is about."""

    def __init__(self, parsed: ParsedMail):
        self.parsed = parsed
        self.sender = Sender(parsed)

    # -- the decision
    def route(self, mail: InboundMail, written: list) -> None:
        parsed = self.parsed
        request = thread_by_headers(parsed)
        how = "headers"
        if request is None:
            request, how = thread_by_subject(self.sender), "subject"
        if request is not None:
            self._reply(mail, request, written, how=how)
            return
        self._new(mail, written)

    def _reply(self, mail, request, written, *, how: str) -> None:
        parsed = self.parsed
        contact = self.sender.contact_of(request.customer_id)
        actor = contact or self.sender.staff_seeing(request)
        if actor is None:
            _conclude(mail, MailState.TRIAGE, request=request, reason=_(
                "A reply about %(number)s from %(sender)s, who is not a contact of its customer: "
                "add it to the request or open a new one.") % {"number": request.number, "sender": parsed.sender})
            return
        if request.is_open or contact is None:
            append_mail(mail, parsed, request, actor=actor, written=written)
            if contact is not None:
                notify_staff(request, mail, parsed, sender_user=contact)
            _conclude(mail, MailState.APPENDED, request=request, reason=_("Threaded by %(how)s.") % {
                "how": _("the reply headers") if how == "headers" else _("the request number in the subject")})
            return
        self._closed(mail, request, contact, written)

    def _closed(self, mail, request, contact, written) -> None:
        """The explicit, rate-limited reopening rule (the package's docstring)."""
        parsed, now = self.parsed, clock.now()
        request = ServiceRequest.objects.select_for_update().get(pk=request.pk)  # one reopening at a time
        events = list(follow_up_events(request).order_by("-at", "-pk"))
        follow_ids = [event.data["follow_up"] for event in events]
        open_follow_up = (ServiceRequest.objects.filter(pk__in=follow_ids, state__in=OPEN_STATES).order_by("-pk").first()
                          if follow_ids else None)
        if open_follow_up is not None:
            append_mail(mail, parsed, open_follow_up, actor=contact, written=written)
            notify_staff(open_follow_up, mail, parsed, sender_user=contact)
            _conclude(mail, MailState.APPENDED, request=open_follow_up, reason=_(
                "A reply to the closed request %(old)s, added to its open follow-up %(new)s.") % {
                "old": request.number, "new": open_follow_up.number})
            return
        closed_at = request.closed_at or request.updated_at
        days = reopen_days()
        if closed_at < now - timedelta(days=days):
            _conclude(mail, MailState.TRIAGE, request=request, reason=_(
                "A reply to %(number)s, which was closed more than %(days)s days ago: the desk decides.") % {
                "number": request.number, "days": days})
            return
        if events and events[0].at > now - reopen_interval():
            _conclude(mail, MailState.TRIAGE, request=request, reason=_(
                "A reply to the closed request %(number)s, which was already reopened by mail at %(time)s "
                "(at most once per %(minutes)s minutes): the desk decides.") % {
                "number": request.number, "time": clock_text(events[0].at),
                "minutes": int(reopen_interval().total_seconds() // 60)})
            return
        try:
            follow_up = verbs.open_follow_up(
                of=request, by=contact, channel=Channel.EMAIL,
                title=(_("Follow-up of %(number)s: %(title)s") % {"number": request.number, "title": request.title})[:TITLE_MAX],
                description=clip_text(strip_quoted(parsed.text)) or parsed.subject or request.title,
                note=_("Opened by a reply to the closed request %(number)s.") % {"number": request.number},
                mail=mail.pk, **{"from": parsed.sender, "subject": parsed.subject})
        except DomainError as error:
            _conclude(mail, MailState.TRIAGE, request=request, reason=_(
                "The request could not be opened: %(error)s") % {"error": error.message})
            return
        stored, refused = store_files(follow_up, parsed.files, by=contact, written=written)
        record_files(follow_up, stored=stored, refused=refused, by=contact, mail=mail)
        _conclude(mail, MailState.CREATED, request=follow_up, reason=_("Follow-up of the closed request %(number)s.") % {
            "number": request.number})

    def _new(self, mail, written) -> None:
        parsed = self.parsed
        if self.sender.contact is None:
            if len(self.sender.customer_ids) > 1:
                reason = _("The address %(sender)s belongs to contacts of several customers: choose the project.")
            elif self.sender.staff:
                reason = _("Sent by staff (%(sender)s) without a request number: choose the project.")
            else:
                reason = _("Unknown sender %(sender)s: choose the project, or dismiss the mail.")
            _conclude(mail, MailState.TRIAGE, reason=reason % {"sender": parsed.sender})
            return
        customer = self.sender.contact.customer
        projects = list(customer.projects.order_by("pk"))
        if not projects:
            _conclude(mail, MailState.TRIAGE, customer=customer, reason=_(
                "%(customer)s has no project yet: create one, then the request.") % {"customer": customer.name})
            return
        project = projects[0] if len(projects) == 1 else match_project(projects, f"{parsed.subject}\n{parsed.text}")
        if project is None:
            _conclude(mail, MailState.TRIAGE, customer=customer, reason=_(
                "%(customer)s has several projects and the mail names none of them (contract number or "
                "project name): choose the project.") % {"customer": customer.name})
            return
        try:
            request = verbs.open_request(
                by=self.sender.contact, project=project, priority=Priority.GENERAL, channel=Channel.EMAIL,
                title=title_of(parsed), description=clip_text(parsed.text) or parsed.subject or title_of(parsed),
            )
        except DomainError as error:
            _conclude(mail, MailState.TRIAGE, customer=customer, reason=_(
                "The request could not be opened: %(error)s") % {"error": error.message})
            return
        stored, refused = store_files(request, parsed.files, by=self.sender.contact, written=written)
        record_files(request, stored=stored, refused=refused, by=self.sender.contact, mail=mail)
        _conclude(mail, MailState.CREATED, request=request)


def clock_text(moment) -> str:
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")
