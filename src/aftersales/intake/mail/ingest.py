"""Stored first, then processed: `store()` writes the raw bytes in their own transaction (the unique Message-ID
makes a second delivery an acknowledgement), `process()` gives one stored message its business effect
(`routing.route`) in one transaction, and a message whose processing failed is retried up to `MAX_ATTEMPTS`
times, then REJECTED. `ingest()` is both, for `aftersales mail-in` and the IMAP poller."""

import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.core import clock

from ..models import InboundMail, MailState
from . import routing
from .parsing import message_id_of

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # processing errors before a stored message is given up as REJECTED


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

