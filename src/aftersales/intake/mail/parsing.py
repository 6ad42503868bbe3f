"""Reading one RFC 822 message into a `ParsedMail`: headers and RFC 2047 words (gb2312/gbk read as GB18030),
the text body, attachments, the references for threading, and why it is an automatic message (loop
protection). No queries (the rules: the package's docstring)."""

import email
import email.header
import email.parser
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from django.conf import settings
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from ..models import InboundMail

MAX_TEXT = 20_000  # characters of body text copied into a request or its timeline; the raw message keeps all
SUBJECT_MAX = 500
TITLE_MAX = 200
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


def clip_text(text: str) -> str:
    """At most MAX_TEXT characters of a body, saying so when it was shortened."""
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + "\n… " + _("(shortened; the whole message is kept)")


def clean_subject(subject: str) -> str:
    return REPLY_PREFIX.sub("", subject).strip()


def title_of(parsed: ParsedMail) -> str:
    """The title a request opened from the mail gets: the subject without reply prefixes, else its first line."""
    title = clean_subject(parsed.subject)
    if not title:
        title = next((line.strip() for line in parsed.text.splitlines() if line.strip()), "")[:100]
    return (title or _("Mail from %(sender)s") % {"sender": parsed.sender})[:TITLE_MAX]


def parse_or_none(mail: InboundMail) -> ParsedMail | None:
    """For pages: the parsed message, or None when it cannot be read."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            return parse(bytes(mail.raw))
    except MalformedMail:
        return None
