"""Stored first, then processed: `store()` writes the raw bytes in their own transaction (the unique Message-ID
makes a second delivery an acknowledgement), `process()` gives one stored message its business effect
(`routing.route`) in one transaction, and a message whose processing failed is retried up to `MAX_ATTEMPTS`
times, then REJECTED. `ingest()` is both, for `aftersales mail-in` and the IMAP poller."""

import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.core import clock

from ..models import InboundMail, MailState
from . import routing
from .parsing import MalformedMail, message_id_of, parse

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # processing errors before a stored message is given up as REJECTED
DEFAULT_MAX_BYTES = 25 * 1024 * 1024
READ_CHUNK = 1024 * 1024


class MessageTooLarge(Exception):
    """A message above AFTERSALES_MAIL_MAX_BYTES: never read further, never stored whole."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(too_large_text(limit))


def max_bytes() -> int:
    """AFTERSALES_MAIL_MAX_BYTES: the largest message read, through the pipe or from the mailbox."""
    return int(getattr(settings, "AFTERSALES_MAIL_MAX_BYTES", DEFAULT_MAX_BYTES) or DEFAULT_MAX_BYTES)


def too_large_text(limit: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("The message is larger than %(limit)s, the most this service accepts by mail. Send large files "
                 "another way (e.g. a link), or split them over several messages.") % {"limit": filesizeformat(limit)}


def read_message(stream, limit: int | None = None) -> bytes:
    """One message from a byte stream (an MTA pipe), reading at most `limit` + 1 bytes: MessageTooLarge beyond."""
    limit = max_bytes() if limit is None else limit
    chunks, left = [], limit + 1
    while left > 0:
        chunk = stream.read(min(left, READ_CHUNK))
        if not chunk:
            break
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", errors="surrogateescape")
        chunks.append(chunk)
        left -= len(chunk)
    raw = b"".join(chunks)
    if len(raw) > limit:
        raise MessageTooLarge(limit)
    return raw


def header_of(raw: bytes) -> bytes:
    """The header block of a message (or of its first bytes): everything before the first empty line."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(separator)
        if end >= 0:
            return raw[:end + len(separator)]
    return raw


def store_too_large(header: bytes, *, size: int | None, limit: int, source: str) -> tuple[InboundMail, bool]:
    """A message above the limit, read no further than its header: a REJECTED row says who sent what and why, so
    the desk can ask for it another way. The message itself stays where it is (the mailbox or its archive)."""
    message_id = message_id_of(header)
    existing = InboundMail.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing, False
    try:
        parsed = parse(header)
        sender, subject = parsed.sender[:255], parsed.subject[:500]
    except MalformedMail:
        sender, subject = "", ""
    reason = too_large_text(limit)
    if size is not None:
        with translation.override(settings.LANGUAGE_CODE):
            reason += " " + _("It has %(size)s and was not read; only its header is kept here.") % {
                "size": filesizeformat(size)}
    try:
        with transaction.atomic():
            mail = InboundMail.objects.create(
                message_id=message_id, raw=bytes(header), source=source[:100], received_at=clock.now(),
                from_address=sender, subject=subject, state=MailState.REJECTED, reason=reason, processed_at=clock.now())
    except IntegrityError:
        return InboundMail.objects.get(message_id=message_id), False
    logger.warning("inbound mail %s (%s from %s): larger than %s bytes, not read", mail.pk, message_id, sender or "?",
                   limit)
    return mail, True


def store(raw: bytes, *, source: str) -> tuple[InboundMail, bool]:
    """Write the raw message (its own transaction, before any parsing). A second delivery of the same
    Message-ID returns the existing row and `False`."""
    message_id = message_id_of(raw)
    try:
        with transaction.atomic():
            mail = InboundMail.objects.create(message_id=message_id, raw=bytes(raw), source=source[:100],
                                              received_at=clock.now(), state=MailState.STORED)
        return mail, True
    except IntegrityError:
        existing = InboundMail.objects.filter(message_id=message_id).first()
        if existing is None:
            raise
        logger.info("inbound mail %s delivered again (%s): acknowledged", existing.pk, message_id)
        return existing, False


def ingest(raw: bytes, *, source: str = "pipe") -> InboundMail:
    """Store, then process one message. Returns its row, whatever became of it (a processing error
    leaves it STORED for a retry and is logged, not raised: the message is safe)."""
    mail, _created = store(raw, source=source)
    if mail.state == MailState.STORED:
        try:
            return process(mail.pk)
        except Exception:  # noqa: BLE001 - stored is what the caller needs; the retry comes later
            logger.exception("inbound mail %s: processing failed; it stays stored and is retried", mail.pk)
            return InboundMail.objects.get(pk=mail.pk)
    return mail


def process_pending(*, limit: int = 100) -> int:
    """Retry stored messages whose processing failed or was interrupted (worker, mail-poll)."""
    ids = list(InboundMail.objects.filter(state=MailState.STORED).order_by("received_at", "pk")
               .values_list("pk", flat=True)[:limit])
    for mail_id in ids:
        try:
            process(mail_id)
        except Exception:  # noqa: BLE001
            logger.exception("inbound mail %s: processing failed again", mail_id)
    return len(ids)


def _attempts(reason: str) -> int:
    found = re.match(r"^\[attempt (\d+)\]", reason or "")
    return int(found.group(1)) if found else 0


def process(mail_id: int) -> InboundMail:
    """The business effect of one stored message, in one transaction."""
    written: list = []  # attachments stored in this attempt: their files go if the transaction does
    try:
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            mail = InboundMail.objects.select_for_update().get(pk=mail_id)
            if mail.state != MailState.STORED:
                return mail
            routing.route(mail, written)
            mail.processed_at = clock.now()
            mail.save(update_fields=["from_address", "subject", "state", "reason", "customer", "request", "processed_at"])
            return mail
    except BaseException as error:
        for attachment in written:
            attachment.file.storage.delete(attachment.file.name)
        if isinstance(error, Exception):
            _count_failure(mail_id, error)
        raise


def _count_failure(mail_id: int, error: Exception) -> None:
    with transaction.atomic():
        mail = InboundMail.objects.select_for_update().filter(pk=mail_id, state=MailState.STORED).first()
        if mail is None:
            return
        attempts = _attempts(mail.reason) + 1
        text = f"{type(error).__name__}: {error}"[:1000]
        if attempts >= MAX_ATTEMPTS:
            mail.state, mail.processed_at = MailState.REJECTED, clock.now()
            with translation.override(settings.LANGUAGE_CODE):
                mail.reason = _("Processing failed %(n)s times: %(error)s") % {"n": attempts, "error": text}
            logger.error("inbound mail %s rejected after %s failed attempts: %s", mail.pk, attempts, text)
        else:
            mail.reason = f"[attempt {attempts}] {text}"
        mail.save(update_fields=["state", "reason", "processed_at"])

