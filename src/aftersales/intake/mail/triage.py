"""The desk's verbs for mail that arrived without a clear owner (issue 11, point 4): mail from unknown senders
(open a request from it, add it to a request, or dismiss it). Each verb is one transaction; the views scope
every object first. Label reports whose reporter is not verified yet: `labels.reports`."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.scoping import SEE_ALL_BRANCHES, is_staff_member
from aftersales.service import verbs
from aftersales.service.models import Channel, EventKind, Priority, ServiceRequest

from ..models import InboundMail, MailState
from .parsing import TITLE_MAX, ParsedMail, clip_text, parse_or_none, title_of
from .routing import append_mail, record_files, store_files


def desk_mails(user):
    """Inbound mail the desk member `user` may handle: of their branch's customers, plus every mail whose
    customer is unknown (any desk can take those); all for staff who see every branch. Customers' users
    see none."""
    queryset = InboundMail.objects.all()
    if not is_staff_member(user) or not user.is_active:
        return queryset.none()
    if user.has_perm(SEE_ALL_BRANCHES):
        return queryset
    scope = Q(customer__isnull=True)
    if user.branch_id:
        scope |= Q(customer__branch_id=user.branch_id)
    return queryset.filter(scope)


def triage_mails(user):
    """Mail waiting for the desk, as `desk_mails` scopes it."""
    return desk_mails(user).filter(state=MailState.TRIAGE)


def _waiting(mail) -> InboundMail:
    mail = InboundMail.objects.select_for_update().get(pk=mail.pk)
    if mail.state != MailState.TRIAGE:
        raise IllegalTransition(_("This mail was handled already."))
    return mail


def _parsed(mail) -> ParsedMail:
    parsed = parse_or_none(mail)
    if parsed is None:
        raise DomainError(_("This mail cannot be read."))
    return parsed


def _delete_files(written) -> None:
    """Files stored by a transaction that rolled back go too."""
    for attachment in written:
        attachment.file.storage.delete(attachment.file.name)


def create_request_from_mail(*, mail, by, project, priority: str = Priority.GENERAL, title: str = "") -> ServiceRequest:
    """Open a request in `project` from a waiting mail; its attachments are checked and kept."""
    written: list = []
    try:
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            mail = _waiting(mail)
            if mail.customer_id and project.customer_id != mail.customer_id:
                raise DomainError(_("Choose a project of the customer this mail is about."), field="project")
            parsed = _parsed(mail)
            reporter = (get_user_model().objects
                        .filter(email__iexact=parsed.sender, customer_id=project.customer_id, is_active=True)
                        .order_by("pk").first()) if parsed.sender else None
            request = verbs.open_request(
                by=by, reporter=reporter, project=project, priority=priority, channel=Channel.EMAIL,
                title=(title.strip() or title_of(parsed))[:TITLE_MAX],
                description=clip_text(parsed.text) or parsed.subject or title_of(parsed),
                reporter_name=(parsed.sender_name or parsed.sender)[:100],
            )
            verbs.record_channel_event(
                request=request, kind=EventKind.MAIL, by=by, mail=mail.pk, **{"from": parsed.sender, "subject": parsed.subject},
                text=_("Opened by the desk from a mail of %(sender)s.") % {"sender": parsed.sender_label})
            stored, refused = store_files(request, parsed.files, by=reporter, written=written)
            record_files(request, stored=stored, refused=refused, by=by, mail=mail)
            mail.state, mail.request, mail.customer_id, mail.processed_at = (
                MailState.CREATED, request, request.customer_id, clock.now())
            mail.save(update_fields=["state", "request", "customer", "processed_at"])
            return request
    except BaseException:
        _delete_files(written)
        raise


def append_mail_to_request(*, mail, by, request) -> ServiceRequest:
    """Add a waiting mail to a request (e.g. a colleague of the customer who is not a user yet)."""
    written: list = []
    try:
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            mail = _waiting(mail)
            if mail.customer_id and request.customer_id != mail.customer_id:
                raise DomainError(_("Choose a request of the customer this mail is about."), field="number")
            parsed = _parsed(mail)
            append_mail(mail, parsed, request, actor=None, added_by=by, written=written)
            mail.state, mail.request, mail.customer_id, mail.processed_at = (
                MailState.APPENDED, request, request.customer_id, clock.now())
            mail.save(update_fields=["state", "request", "customer", "processed_at"])
            return request
    except BaseException:
        _delete_files(written)
        raise


@transaction.atomic
def dismiss_mail(*, mail, by, reason: str = "") -> InboundMail:
    """Nothing to do (spam, a thank-you): kept as IGNORED with who dismissed it and why."""
    mail = _waiting(mail)
    with translation.override(settings.LANGUAGE_CODE):
        mail.reason = _("Dismissed by %(name)s: %(reason)s") % {"name": by.display_name,
                                                               "reason": reason.strip() or "—"}
    mail.state, mail.processed_at = MailState.IGNORED, clock.now()
    mail.save(update_fields=["state", "reason", "processed_at"])
    return mail
