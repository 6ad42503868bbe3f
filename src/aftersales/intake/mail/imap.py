"""SRQ-1 inbound mail from an IMAP mailbox (`aftersales mail-poll` and the worker's job every minute).

For each message of the mailbox that is not flagged \\Deleted, by UID (stable, unlike sequence numbers):
1. fetch it with BODY.PEEK[] (fetching does not mark it \\Seen);
2. `ingest.store()`, then `ingest.process()`: the raw bytes are stored (committed), then processed in their
   own transaction;
3. only then is it acknowledged: flagged \\Seen and \\Deleted (or moved to AFTERSALES_IMAP_ARCHIVE_MAILBOX),
   and the mailbox is expunged once at the end of the poll.
A crash after 2 and before 3 leaves the message in the mailbox; the next poll stores it again, hits the
unique Message-ID, and acknowledges it: nothing lost, nothing twice. A message whose processing failed stays
in the mailbox (unflagged) so the next poll tries it again; after `ingest.MAX_ATTEMPTS` it is REJECTED and
acknowledged. The mailbox must be dedicated to the service: everything in it is read and removed.

A message larger than AFTERSALES_MAIL_MAX_BYTES is not read: its size and header come first (RFC822.SIZE,
BODY.PEEK[HEADER]), a REJECTED row records who sent what and why, and the message is moved to the archive mailbox
when there is one, else left in the mailbox for a person (each poll then costs its header only). The body fetch is
bounded too (a partial fetch of at most the limit and one byte), should a server misreport the size.
"""

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from ..models import MailState
from . import ingest

logger = logging.getLogger(__name__)

BATCH = 200  # messages per poll; the rest waits for the next one
TIMEOUT = 60  # seconds for the connection and each command
SIZE = re.compile(rb"RFC822\.SIZE (\d+)", re.IGNORECASE)


@dataclass
class PollResult:
    seen: int = 0  # messages found in the mailbox
    stored: int = 0  # new rows written
    duplicates: int = 0  # already stored (an earlier poll crashed before acknowledging, or a second copy)
    acknowledged: int = 0  # flagged/moved after their commit
    kept: list = field(default_factory=list)  # UIDs left in the mailbox for the next poll (processing failed, too large)
    too_large: int = 0  # above AFTERSALES_MAIL_MAX_BYTES: not read, recorded as rejected


def configured() -> bool:
    return bool(getattr(settings, "AFTERSALES_IMAP_HOST", ""))


def connect() -> imaplib.IMAP4:
    """A logged-in connection with the service mailbox selected (read-write)."""
    if not configured():
        raise ImproperlyConfigured("AFTERSALES_IMAP_HOST is not set: the IMAP poller is disabled.")
    host, port = settings.AFTERSALES_IMAP_HOST, settings.AFTERSALES_IMAP_PORT
    if settings.AFTERSALES_IMAP_SSL:
        connection = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT)
    else:
        connection = imaplib.IMAP4(host, port, timeout=TIMEOUT)
        if "STARTTLS" in connection.capabilities:  # never send the password in clear when TLS is offered
            connection.starttls(ssl_context=ssl.create_default_context())
    connection.login(settings.AFTERSALES_IMAP_USER, settings.AFTERSALES_IMAP_PASSWORD or "")
    return connection


def _ok(answer, what: str):
    typ, data = answer
    if typ != "OK":
        raise imaplib.IMAP4.error(f"IMAP {what} failed: {typ} {data!r}")
    return data


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _message_bytes(data) -> bytes | None:
    """The literal of a FETCH answer: [(b'1 (UID 7 BODY[] {123}', b'raw'), b')']."""
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], (bytes, bytearray)):
            return bytes(item[1])
    return None


def _size_and_header(connection: imaplib.IMAP4, uid: str) -> tuple[int | None, bytes]:
    """The message's size as the server states it (None if it does not) and its header block."""
    data = _ok(connection.uid("FETCH", uid, "(RFC822.SIZE BODY.PEEK[HEADER])"), "FETCH")
    size = None
    for item in data or []:
        for part in (item[:1] if isinstance(item, tuple) else (item,)):
            if isinstance(part, (bytes, bytearray)) and (found := SIZE.search(part)):
                size = int(found.group(1))
    return size, ingest.header_of(_message_bytes(data) or b"")


def _set_aside(connection, uid: str, header: bytes, *, size, max_bytes: int, mailbox: str, archive: str,
               result: PollResult) -> bool:
    """A message above the limit: recorded (header only) as rejected; moved to the archive, else left where it is.
    True if the mailbox was changed (an expunge is due)."""
    _mail, created = ingest.store_too_large(header, size=size, limit=max_bytes, source=f"imap:{mailbox}"[:100])
    result.stored += created
    result.too_large += 1
    if archive:
        acknowledge(connection, uid, archive=archive)
        result.acknowledged += 1
        return True
    logger.warning("IMAP message %s of %s is larger than %s bytes: not read, left in the mailbox", uid, mailbox, max_bytes)
    result.kept.append(uid)
    return False


def poll(*, connection: imaplib.IMAP4 | None = None, limit: int = BATCH) -> PollResult:
    """Read the configured mailbox once. `connection`: an IMAP4 object (tests pass a fake)."""
    own = connection is None
    connection = connection or connect()
    result = PollResult()
    mailbox = getattr(settings, "AFTERSALES_IMAP_MAILBOX", "INBOX") or "INBOX"
    archive = getattr(settings, "AFTERSALES_IMAP_ARCHIVE_MAILBOX", "") or ""
    try:
        _ok(connection.select(_quoted(mailbox)), "SELECT")
        uids = _ok(connection.uid("SEARCH", None, "UNDELETED"), "SEARCH")
        uids = [uid for uid in b" ".join(part for part in uids if part).split() if uid.isdigit()][:limit]
        result.seen = len(uids)
        acknowledged = False
        max_bytes = ingest.max_bytes()
        for uid in uids:
            uid = uid.decode()
            size, header = _size_and_header(connection, uid)
            if size is not None and size > max_bytes:
                acknowledged |= _set_aside(connection, uid, header, size=size, max_bytes=max_bytes, mailbox=mailbox,
                                           archive=archive, result=result)
                continue
            raw = _message_bytes(_ok(connection.uid("FETCH", uid, f"(BODY.PEEK[]<0.{max_bytes + 1}>)"), "FETCH"))
            if raw is None:
                logger.warning("IMAP message %s of %s: no content in the FETCH answer; left in the mailbox", uid, mailbox)
                result.kept.append(uid)
                continue
            if len(raw) > max_bytes:  # the server did not state the size, or stated it wrong
                acknowledged |= _set_aside(connection, uid, ingest.header_of(raw), size=size, max_bytes=max_bytes,
                                           mailbox=mailbox, archive=archive, result=result)
                continue
            mail, created = ingest.store(raw, source=f"imap:{mailbox}"[:100])
            result.stored += created
            result.duplicates += not created
            if mail.state == MailState.STORED:
                try:
                    mail = ingest.process(mail.pk)
                except Exception:  # noqa: BLE001 - stored; it stays in the mailbox and is tried again
                    logger.exception("inbound mail %s (IMAP %s): processing failed; left in the mailbox", mail.pk, uid)
                    result.kept.append(uid)
                    continue
            # Committed. Only now does the mailbox learn about it.
            acknowledge(connection, uid, archive=archive)
            acknowledged = True
            result.acknowledged += 1
        if acknowledged:
            _ok(connection.expunge(), "EXPUNGE")
    finally:
        if own:
            try:
                connection.close()
            except Exception:  # noqa: BLE001
                pass
            try:
                connection.logout()
            except Exception:  # noqa: BLE001
                pass
    logger.info("IMAP poll of %s: %s found, %s new, %s again, %s acknowledged, %s kept", mailbox, result.seen,
                result.stored, result.duplicates, result.acknowledged, len(result.kept))
    return result


def acknowledge(connection: imaplib.IMAP4, uid: str, *, archive: str = "") -> None:
    """Flag a committed message \\Seen and remove it: moved to `archive`, else flagged \\Deleted (expunged
    at the end of the poll)."""
    if not archive:
        _ok(connection.uid("STORE", uid, "+FLAGS", r"(\Seen \Deleted)"), "STORE")
        return
    _ok(connection.uid("STORE", uid, "+FLAGS", r"(\Seen)"), "STORE")
    capabilities = {str(c).upper() for c in getattr(connection, "capabilities", ())}
    if "MOVE" in capabilities:
        _ok(connection.uid("MOVE", uid, _quoted(archive)), "MOVE")
        return
    _ok(connection.uid("COPY", uid, _quoted(archive)), "COPY")
    _ok(connection.uid("STORE", uid, "+FLAGS", r"(\Deleted)"), "STORE")


def describe(result: PollResult) -> str:
    return (f"{result.seen} found, {result.stored} new, {result.duplicates} already stored, "
            f"{result.acknowledged} acknowledged, {len(result.kept)} left for the next poll"
            + (f", {result.too_large} larger than the limit (not read)" if result.too_large else ""))

