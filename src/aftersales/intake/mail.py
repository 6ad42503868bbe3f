"""SRQ-1 inbound mail: a message to the service mailbox opens a request, is added to one, or waits for the desk.

The rules (lessons.md #5 and #6; docs/intake-mail.md says the same for administrators):

* **Stored first.** `ingest()` writes the raw bytes as an `InboundMail` row in its own transaction before
  anything is parsed. Its Message-ID is unique (a message without one gets `sha256:<hex of the raw bytes>`),
  so a second delivery of the same message finds the row and is only acknowledged.
* **One transaction per message** for the business effect (`process()`): the row is locked and moves out of
  STORED together with the request, timeline event and attachments it produced, or not at all. Files written
  to storage by a transaction that rolls back are deleted again. A processing error leaves the row STORED;
  it is retried by the worker (and by the next IMAP poll) up to `MAX_ATTEMPTS` times, then REJECTED.
* **Threading**: In-Reply-To / References naming one of our notifications (`OutboxMessage.message_id`) or an
  earlier inbound mail of a request; else a request number (`SR0000012`, with or without brackets) in the
  subject, looked up only among the sender's own customer's requests.
* **Who may add to a request**: a contact (user) of the request's customer, or staff who can see the request.
  Anyone else's reply waits in triage with the request as a suggestion.
* **Reopening by mail** (the state machine has no way out of CLOSED): a contact's reply to a closed or
  cancelled request opens a *follow-up request* in the same project, linked on both timelines, when
  - the request was closed at most `AFTERSALES_MAIL_REOPEN_DAYS` days ago (default 7), and
  - no follow-up of it was opened in the last `AFTERSALES_MAIL_REOPEN_INTERVAL_MINUTES` (default 60).
  While a follow-up is open, further replies to the old request are added to the follow-up. Otherwise the
  mail waits in triage with the reason.
* **Loop protection**: auto-replies (Auto-Submitted other than "no", X-Autoreply/X-Autorespond, Precedence
  bulk/junk/auto_reply, auto-reply subjects such as "自动回复:" / "Automatic reply:"), bounces and reports (multipart/report, null
  Return-Path, MAILER-DAEMON/postmaster senders), our own address (AFTERSALES_SERVICE_ADDRESS and the
  DEFAULT_FROM_EMAIL address) and echoes of our own notifications are stored as IGNORED and create nothing.
  Mail appended to a request notifies staff only when its sender is a customer contact, so two staff
  auto-responders cannot keep each other busy through us.
* **Chinese mail**: parts labelled gb2312/gbk (and aliases) are decoded as GB18030; RFC 2047 words too;
  unlabelled 8-bit text is read as UTF-8, else GB18030.
* **Attachments** pass `service.attachments.check_upload/store` (type sniffed, size limit); a refused one is
  named in the timeline text, the others are kept.
* **Malformed** (unparsable, no sender address): REJECTED with the reason, logged, nothing else written.
"""

import email
import email.header
import email.parser
import email.policy
import hashlib
import html
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError
from aftersales.core.scoping import visible
from aftersales.service import attachments as attachment_checks
from aftersales.service import notices
from aftersales.service.models import OPEN_STATES, Channel, EventKind, Priority, ServiceRequest, TimelineEvent
from aftersales.service import verbs

from .models import InboundMail, MailState

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # processing errors before a stored message is given up as REJECTED
MAX_TEXT = 20_000  # characters of body text copied into a request or its timeline; the raw message keeps all
MAX_ATTACHMENTS = 20
SUBJECT_MAX = 500
TITLE_MAX = 200
TOKEN = re.compile(r"(?<![A-Za-z0-9])SR(\d{7,12})(?![0-9])", re.IGNORECASE)
MSGID = re.compile(r"<[^<>\s]+>")
GB_LABELS = {"gb2312", "gb_2312", "gb_2312-80", "csgb2312", "euc-cn", "euccn", "x-euc-cn", "gbk", "x-gbk", "cp936",
             "ms936", "windows-936", "gb18030", "chinese", "csiso58gb231280", "iso-ir-58"}
AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "auto-reply"}
AUTO_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
# Only with the colon clients put after them ("自动回复: 原主题"): "自动回复功能坏了" is a person's mail.
AUTO_SUBJECT = re.compile(
    r"^\s*(自动回复|自动答复|自動回覆|auto(matic)?[ -]?(reply|response|answer)|out of (the )?office( auto ?reply)?|"
    r"abwesenheitsnotiz|undeliverable|系统退信|退信)\s*[:：]", re.IGNORECASE)
REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)


class MalformedMail(Exception):
    """The message cannot be read as an RFC 822 message with a sender."""


# ----------------------------------------------------------------------------------------------- decoding

def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    return "gb18030" if name in GB_LABELS else name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text in its declared charset; gb2312/gbk labels read as GB18030 (their superset, which is what
    Chinese mail clients really write); no or an unknown label: UTF-8 if it is valid, else GB18030."""
    codec = _codec(charset)
    if codec and codec not in ("us-ascii", "ascii"):
        try:
            return data.decode(codec, errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def clean_text(text: str) -> str:
    """What a database accepts: no NUL characters (PostgreSQL refuses them), no lone surrogates."""
    text = text.replace("\x00", "")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("utf-8", errors="replace").decode("utf-8", errors="replace")
    return text


def _undo_surrogates(text: str) -> str:
    """Raw 8-bit header bytes reach us surrogate-escaped: read them as UTF-8, else GB18030."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", errors="surrogateescape"), None)


def decode_header(value) -> str:
    """An unfolded header value with RFC 2047 words decoded (gb2312 words as GB18030)."""
    if value is None:
        return ""
    value = re.sub(r"\r?\n(?=[ \t])", "", str(value)).replace("\r", "").replace("\n", " ")
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # noqa: BLE001 - a broken encoded word is shown as written
        return _undo_surrogates(value).strip()
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            if charset is None:
                out.append(_undo_surrogates(chunk.decode("raw-unicode-escape")))
            else:
                out.append(decode_bytes(chunk, charset))
        else:
            out.append(_undo_surrogates(chunk))
    return "".join(out).strip()


def html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-6]|table|blockquote)\s*>", "\n", markup)
    text = html.unescape(strip_tags(markup)).replace("\xa0", " ")
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip()


# ----------------------------------------------------------------------------------------------- parsing

@dataclass
class MailFile:
    name: str
    content: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # lower-case address, "" when there is none
    sender_name: str
    subject: str
    text: str
    references: list[str]  # In-Reply-To first, then References newest first
    files: list[MailFile] = field(default_factory=list)
    auto: str = ""  # why this is an automatic message (loop protection); "" for a person's mail
    headers: dict = field(default_factory=dict)

    @property
    def sender_label(self) -> str:
        return f"{self.sender_name} <{self.sender}>" if self.sender_name else self.sender


def _raw_headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(str(value))
    return headers


def normalise_message_id(value: str | None) -> str:
    if not value:
        return ""
    value = re.sub(r"\s+", " ", _undo_surrogates(str(value))).strip()
    found = MSGID.search(value)
    value = found.group(0) if found else ("" if " " in value else value)
    if value and not (value.isascii() and value.isprintable()):
        value = "sha256-id:" + hashlib.sha256(clean_text(value).encode("utf-8")).hexdigest()
    return value


def message_id_of(raw: bytes) -> str:
    """The message's Message-ID, or `sha256:<hex>` of the raw bytes when it has none (a stable key:
    the same bytes delivered again get the same id). Read leniently: this runs before any parsing."""
    value = ""
    try:
        headers = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
        value = normalise_message_id(headers.get("Message-ID"))
    except Exception:  # noqa: BLE001 - whatever the bytes are, they are stored
        value = ""
    if not value:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(value) > 255:
        return "sha256-id:" + hashlib.sha256(value.encode("utf-8", errors="surrogateescape")).hexdigest()
    return value


def _filename(part: Message, index: int) -> str:
    raw = None
    try:
        raw = part.get_filename()
    except Exception:  # noqa: BLE001
        raw = None
    name = clean_text(decode_header(raw)) if raw else ""
    name = re.split(r"[\\/]", name)[-1].strip().lstrip(".").strip()  # never "..", never a hidden file
    if not name:
        extension = {"message/rfc822": ".eml", "text/plain": ".txt", "text/html": ".html"}.get(part.get_content_type(), ".bin")
        name = f"attachment-{index}{extension}"
    return name[:200]


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    return decode_bytes(payload, part.get_content_charset())


def _walk(part: Message, found: dict) -> None:
    """Collect the first plain and HTML bodies and the attachments; forwarded messages stay whole (.eml)."""
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        content = b""
        if isinstance(inner, list) and inner:
            content = inner[0].as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))
        found["files"].append(MailFile(_filename(part, len(found["files"]) + 1), content))
        return
    if part.is_multipart():
        for sub in part.get_payload():
            _walk(sub, found)
        return
    disposition = part.get_content_disposition()
    has_name = bool(part.get_param("name") or part.get_param("filename", header="content-disposition"))
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not has_name:
        key = "plain" if ctype == "text/plain" else "html"
        if found[key] is None:
            found[key] = _text_of(part)
        elif key == "plain":  # a body split around inline images continues
            found[key] += "\n" + _text_of(part)
        return
    if ctype.startswith("multipart/") or ctype == "message/delivery-status":
        return
    found["files"].append(MailFile(_filename(part, len(found["files"]) + 1), part.get_payload(decode=True) or b""))


def _own_addresses() -> set[str]:
    own = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()}
    extra = getattr(settings, "AFTERSALES_SERVICE_ADDRESS", "") or ""
    own |= {address.strip().lower() for address in re.split(r"[,\s]+", extra) if address.strip()}
    return {address for address in own if address}


def _auto_reason(message: Message, headers: dict, sender: str, subject: str, references: list[str]) -> str:
    """Why this message must not create anything (lessons.md #5), or ""."""
    def first(name):
        return decode_header(headers.get(name, [""])[0]).lower()

    auto_submitted = first("auto-submitted").split(";")[0].strip()
    if auto_submitted and auto_submitted != "no":
        return _("Automatic message (Auto-Submitted: %(value)s).") % {"value": auto_submitted}
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if name in headers and first(name) not in ("", "no", "false"):
            return _("Automatic reply (%(header)s).") % {"header": name}
    precedence = first("precedence").strip()
    if precedence in AUTO_PRECEDENCE:
        return _("Bulk or automatic mail (Precedence: %(value)s).") % {"value": precedence}
    if message.get_content_type() == "multipart/report":
        report = (message.get_param("report-type") or "").lower()
        return _("Delivery or read report (%(type)s).") % {"type": report or "multipart/report"}
    if "return-path" in headers and headers["return-path"][0].strip() in ("<>", ""):
        return _("Bounce or automatic message (empty Return-Path).")
    if sender.partition("@")[0] in AUTO_SENDERS:
        return _("Bounce from %(sender)s.") % {"sender": sender}
    if sender and sender in _own_addresses():
        return _("Mail from our own service address.")
    if "x-aftersales-event" in headers:
        return _("One of our own notifications came back.")
    if AUTO_SUBJECT.match(subject):
        return _("Automatic reply (subject: %(subject)s).") % {"subject": subject[:100]}
    return ""


def parse(raw: bytes) -> ParsedMail:
    """Read one RFC 822 message (email.policy.default). Raises MalformedMail with a reason."""
    if not raw or not raw.strip():
        raise MalformedMail(_("The message is empty."))
    try:
        message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
        headers = _raw_headers(message)
    except Exception as error:  # noqa: BLE001 - any parser failure is a malformed message
        raise MalformedMail(_("The message cannot be parsed: %(error)s") % {"error": error}) from error
    if not headers:
        raise MalformedMail(_("The message has no headers."))
    subject = decode_header(headers.get("subject", [""])[0])[:SUBJECT_MAX]
    sender_name, sender = "", ""
    if "from" in headers:
        raw_from = re.sub(r"\r?\n(?=[ \t])", "", headers["from"][0])
        # The raw value first (a decoded name may contain commas), then decoded (a wholly encoded From).
        for candidate in (raw_from, decode_header(raw_from)):
            for name, address in getaddresses([candidate]):
                address = _undo_surrogates(address).strip().lower()
                if address and "@" in address and " " not in address:
                    sender_name, sender = decode_header(name).strip(), address
                    break
            if sender:
                break
    references: list[str] = []
    for name in ("in-reply-to", "references"):
        ids = []
        for value in headers.get(name, []):
            ids += MSGID.findall(_undo_surrogates(value))
        references += ids if name == "in-reply-to" else list(reversed(ids))
    references = list(dict.fromkeys(references))[:50]
    found = {"plain": None, "html": None, "files": []}
    try:
        _walk(message, found)
    except Exception as error:  # noqa: BLE001
        raise MalformedMail(_("The message body cannot be read: %(error)s") % {"error": error}) from error
    text = found["plain"] if found["plain"] is not None else html_to_text(found["html"] or "")
    text = clean_text(text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    parsed = ParsedMail(
        message_id=normalise_message_id(headers.get("message-id", [""])[0]), sender=clean_text(sender),
        sender_name=clean_text(sender_name), subject=clean_text(subject), text=text, references=references, files=found["files"], headers=headers,
    )
    parsed.auto = _auto_reason(message, headers, sender, subject, references)
    if not parsed.auto and not sender:
        raise MalformedMail(_("The message has no sender address (From)."))
    return parsed


QUOTE_START = re.compile(
    r"^\s*(-{2,}\s*(original message|原始邮件|forwarded message|转发邮件|回复的原邮件)\s*-{2,}"
    r"|_{10,}|on .{4,200} wrote:|在\s*.{4,200}写道[:：]?"
    r"|(发件人|from)\s*[:：].*)\s*$", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """A reply without the quoted message below it (common client markers); all of it if nothing is left."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if QUOTE_START.match(line):
            if line.lower().lstrip().startswith(("from", "发件人")):
                following = " ".join(lines[index + 1:index + 4]).lower()
                if not any(key in following for key in ("sent:", "date:", "发送时间", "时间:", "时间：", "to:", "收件人")):
                    continue
            lines = lines[:index]
            break
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    kept = "\n".join(lines).strip()
    return kept or text.strip()


def _clip(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + "\n… " + _("(shortened; the whole message is kept)")


def clean_subject(subject: str) -> str:
    return REPLY_PREFIX.sub("", subject).strip()


# ----------------------------------------------------------------------------------------------- storing

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
            _process(mail, written)
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


# ----------------------------------------------------------------------------------------------- routing

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


def _process(mail: InboundMail, written: list) -> None:
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
    if _is_our_own_message(parsed):
        _conclude(mail, MailState.IGNORED, reason=_("One of our own notifications came back."))
        return
    Sender(parsed).route(mail, written)


def _is_our_own_message(parsed: ParsedMail) -> bool:
    from aftersales.notify.models import OutboxMessage

    return bool(parsed.message_id) and OutboxMessage.objects.filter(message_id=parsed.message_id).exists()


def thread_by_headers(parsed: ParsedMail) -> ServiceRequest | None:
    """The request that one of the referenced messages was about: one of our notifications, or a mail
    that was added to (or opened) a request. In-Reply-To wins, then the newest reference."""
    if not parsed.references:
        return None
    from aftersales.notify.models import Channel as NotifyChannel
    from aftersales.notify.models import OutboxMessage

    request_type = ContentType.objects.get_for_model(ServiceRequest)
    found: dict[str, int] = {}
    for message_id, about_id in (OutboxMessage.objects.filter(message_id__in=parsed.references, channel=NotifyChannel.EMAIL,
                                                              about_type=request_type)
                                 .values_list("message_id", "about_id")):
        if about_id.isdigit():
            found.setdefault(message_id, int(about_id))
    for message_id, request_id in (InboundMail.objects.filter(message_id__in=parsed.references, request__isnull=False)
                                   .values_list("message_id", "request_id")):
        found.setdefault(message_id, request_id)
    for message_id in parsed.references:
        if message_id in found:
            request = ServiceRequest.objects.filter(pk=found[message_id]).first()
            if request is not None:
                return request
    return None


def subject_tokens(subject: str) -> list[str]:
    return list(dict.fromkeys(f"SR{digits}" for digits in TOKEN.findall(subject)))


def match_project(projects, text: str):
    """The one project named in the mail by contract number, else by name; None if none or several."""
    folded = text.casefold()
    by_contract = [p for p in projects if p.contract_number and p.contract_number.casefold() in folded]
    if len(by_contract) == 1:
        return by_contract[0]
    if by_contract:
        return None
    by_name = [p for p in projects if len(p.name) >= 2 and p.name.casefold() in folded]
    # "银川天网工程" also contains "天网": the longer name is the more specific one
    by_name = [p for p in by_name if not any(o is not p and p.name.casefold() in o.name.casefold() for o in by_name)]
    return by_name[0] if len(by_name) == 1 else None


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
    body = _clip(strip_quoted(parsed.text))
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
        body=_clip(strip_quoted(parsed.text)), dedupe_key=f"mail-{mail.pk}",
    )


def reopen_days() -> int:
    return int(getattr(settings, "AFTERSALES_MAIL_REOPEN_DAYS", 7))


def reopen_interval() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "AFTERSALES_MAIL_REOPEN_INTERVAL_MINUTES", 60)))


def follow_up_events(request):
    return TimelineEvent.objects.filter(request=request, kind=EventKind.MAIL, data__has_key="follow_up")


class Sender:
    """Who wrote the mail, and what that allows."""

    def __init__(self, parsed: ParsedMail):
        self.parsed = parsed
        users = list(get_user_model().objects.filter(email__iexact=parsed.sender, is_active=True)
                     .select_related("customer").order_by("pk")) if parsed.sender else []
        self.contacts = [user for user in users if user.customer_id]
        self.staff = [user for user in users if not user.customer_id]
        self.customer_ids = {user.customer_id for user in self.contacts}
        self.contact = self.contacts[0] if len(self.customer_ids) == 1 else None

    def contact_of(self, customer_id):
        return next((user for user in self.contacts if user.customer_id == customer_id), None)

    def staff_seeing(self, request):
        for user in self.staff:
            if visible(ServiceRequest.objects.filter(pk=request.pk), user).exists():
                return user
        return None

    # -- the decision
    def route(self, mail: InboundMail, written: list) -> None:
        parsed = self.parsed
        request = thread_by_headers(parsed)
        how = "headers"
        if request is None:
            request, how = self._thread_by_token(), "subject"
        if request is not None:
            self._reply(mail, request, written, how=how)
            return
        self._new(mail, written)

    def _thread_by_token(self):
        tokens = subject_tokens(self.parsed.subject)
        if not tokens:
            return None
        for number in tokens:
            candidates = ServiceRequest.objects.filter(number=number.upper())
            if self.customer_ids:
                # Only the sender's own customer's requests: a number never leads into another customer's request.
                found = candidates.filter(customer_id__in=self.customer_ids).first()
            else:
                found = next((r for r in candidates if self.staff_seeing(r)), None) if self.staff else None
            if found is not None:
                return found
        return None

    def _reply(self, mail, request, written, *, how: str) -> None:
        parsed = self.parsed
        contact = self.contact_of(request.customer_id)
        actor = contact or self.staff_seeing(request)
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
        """The explicit, rate-limited reopening rule (module docstring)."""
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
                description=_clip(strip_quoted(parsed.text)) or parsed.subject or request.title,
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
        if self.contact is None:
            if len(self.customer_ids) > 1:
                reason = _("The address %(sender)s belongs to contacts of several customers: choose the project.")
            elif self.staff:
                reason = _("Sent by staff (%(sender)s) without a request number: choose the project.")
            else:
                reason = _("Unknown sender %(sender)s: choose the project, or dismiss the mail.")
            _conclude(mail, MailState.TRIAGE, reason=reason % {"sender": parsed.sender})
            return
        customer = self.contact.customer
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
                by=self.contact, project=project, priority=Priority.GENERAL, channel=Channel.EMAIL,
                title=title_of(parsed), description=_clip(parsed.text) or parsed.subject or title_of(parsed),
            )
        except DomainError as error:
            _conclude(mail, MailState.TRIAGE, customer=customer, reason=_(
                "The request could not be opened: %(error)s") % {"error": error.message})
            return
        stored, refused = store_files(request, parsed.files, by=self.contact, written=written)
        record_files(request, stored=stored, refused=refused, by=self.contact, mail=mail)
        _conclude(mail, MailState.CREATED, request=request)


def title_of(parsed: ParsedMail) -> str:
    title = clean_subject(parsed.subject)
    if not title:
        title = next((line.strip() for line in parsed.text.splitlines() if line.strip()), "")[:100]
    return (title or _("Mail from %(sender)s") % {"sender": parsed.sender})[:TITLE_MAX]


def clock_text(moment) -> str:
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def parse_or_none(mail: InboundMail) -> ParsedMail | None:
    """For pages: the parsed message, or None when it cannot be read."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            return parse(bytes(mail.raw))
    except MalformedMail:
        return None

