"""NOT-1: how one message goes out. No database writes here: services.deliver decides what a result means.

Raises `DeliveryError` when the other side refused or could not be reached (retried with backoff) and
`RateLimited` when it asks us to slow down (postponed, not counted as a failed attempt).
"""

import base64
import functools
import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
import uuid
from email.utils import parseaddr
from urllib.parse import quote_plus, urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.core import clock

from .models import Channel, EndpointKind, OutboxMessage

# Seconds; a robot or mail server that does not answer in time is retried later. Both stay well below the delivery
# lease (services.LEASE, 90 s), so that a send still under way is never taken for a dead worker's.
HTTP_TIMEOUT = 10
SMTP_TIMEOUT = 20
WECOM_MAX_BYTES = 4096  # WeCom robot markdown content limit, in UTF-8 bytes
DINGTALK_MAX_BYTES = 20000  # DingTalk states no markdown limit in bytes; stay far below its request size limit
FEISHU_MAX_BYTES = 18000  # Feishu custom robots take request bodies of at most 20 KB
RESPONSE_READ_LIMIT = 64 * 1024
# Robots' own "too fast" answers: HTTP 200 with these errcodes. DingTalk then blocks the robot for 10 minutes.
# Feishu answers {"code": 9499, "msg": "too many request"} (100 a minute, 5 a second per robot).
REMOTE_RATE_LIMIT_ERRCODES = {EndpointKind.DINGTALK: {130101}, EndpointKind.WECOM: {45009}, EndpointKind.FEISHU: {9499}}


class DeliveryError(Exception):
    """The message did not go out; try again later. `permanent` ones are given up at once."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class RateLimited(DeliveryError):
    """The other side asks us to slow down."""


def send(message: OutboxMessage) -> None:
    if message.channel == Channel.EMAIL:
        send_email(message)
    elif message.channel == Channel.WEBHOOK:
        post_webhook(message)
    elif message.channel == Channel.SMS:
        from . import sms  # sms imports DeliveryError from here

        sms.send_message(message)
    else:
        raise DeliveryError(f"channel {message.channel!r} is not sent by the worker", permanent=True)


def absolute_url(url: str) -> str:
    if url.startswith("/"):
        return settings.SITE_URL.rstrip("/") + url
    return url


def new_message_id() -> str:
    """An RFC 5322 Message-ID in our sender's domain, chosen when the message is enqueued so that every
    retry carries the same one (a receiver can drop duplicates; replies can be threaded later)."""
    return f"<notify.{uuid.uuid4().hex}@{_domain_of(settings.DEFAULT_FROM_EMAIL)}>"  # short: the header is not folded


@functools.lru_cache(maxsize=8)
def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "aftersales.invalid"


# --- email -----------------------------------------------------------------------------------------------

def email_text(message: OutboxMessage) -> str:
    parts = [message.body.strip()]
    with translation.override(settings.LANGUAGE_CODE):
        if message.url:
            parts.append(_("Open: %(url)s") % {"url": absolute_url(message.url)})
        parts.append("-- \n" + _("This message was sent automatically by the after-sales service system."))
    return "\n\n".join(part for part in parts if part)


def send_email(message: OutboxMessage) -> None:
    if message.recipient_user_id and not message.recipient_user.is_active:
        raise DeliveryError("the recipient's account is deactivated", permanent=True)
    headers = {
        "Auto-Submitted": "auto-generated",  # RFC 3834: auto-responders stay silent (lesson 5: no mail loops)
        "X-Auto-Response-Suppress": "All",  # the same for Exchange / Outlook
        "X-Aftersales-Event": message.event,
    }
    if message.message_id:
        headers["Message-ID"] = message.message_id
    email = EmailMessage(
        subject=message.subject, body=email_text(message), from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient_address], headers=headers,
        connection=get_connection(fail_silently=False, timeout=SMTP_TIMEOUT),
    )
    try:
        email.send()
    except Exception as error:  # smtplib, socket and backend errors alike: try again later
        raise DeliveryError(f"{type(error).__name__}: {error}") from error


# --- webhooks --------------------------------------------------------------------------------------------

def truncate_utf8(text: str, max_bytes: int, marker: str = "…") -> str:
    """`text` cut so that its UTF-8 encoding fits in `max_bytes`, never inside a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max(max_bytes - len(marker.encode("utf-8")), 0)
    return encoded[:room].decode("utf-8", errors="ignore") + marker


def _markdown(message: OutboxMessage, *, heading: str, line_break: str, max_bytes: int) -> str:
    """Heading, body, link; the body is shortened so that the link always survives."""
    head = f"{heading} {message.subject}\n\n"
    with translation.override(settings.LANGUAGE_CODE):
        tail = f"\n\n[{_('Open')}]({absolute_url(message.url)})" if message.url else ""
    budget = max_bytes - len(head.encode()) - len(tail.encode())
    body = truncate_utf8(message.body.strip(), max(budget, 0)).replace("\n", line_break)
    return truncate_utf8(head + body + tail, max_bytes)


def wecom_payload(message: OutboxMessage) -> dict:
    content = _markdown(message, heading="###", line_break="\n", max_bytes=WECOM_MAX_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


def dingtalk_payload(message: OutboxMessage) -> dict:
    # DingTalk markdown needs two trailing spaces for a line break inside a paragraph.
    text = _markdown(message, heading="####", line_break="  \n", max_bytes=DINGTALK_MAX_BYTES)
    return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text}}


def plain_text(message: OutboxMessage, *, max_bytes: int) -> str:
    """Subject, body, link as plain text; the body is shortened so that the link always survives."""
    head = f"{message.subject}\n\n"
    with translation.override(settings.LANGUAGE_CODE):
        tail = "\n\n" + _("Open: %(url)s") % {"url": absolute_url(message.url)} if message.url else ""
    budget = max_bytes - len(head.encode()) - len(tail.encode())
    return truncate_utf8(head + truncate_utf8(message.body.strip(), max(budget, 0)) + tail, max_bytes)


def feishu_payload(message: OutboxMessage) -> dict:
    return {"msg_type": "text", "content": {"text": plain_text(message, max_bytes=FEISHU_MAX_BYTES)}}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256(key="timestamp\\nsecret", message=empty)); the timestamp in seconds,
    sent in the JSON body with the sign (not URL-encoded, unlike DingTalk's)."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def generic_payload(message: OutboxMessage) -> dict:
    return {
        "id": message.pk,
        "event": message.event,
        "subject": message.subject,
        "body": message.body,
        "url": absolute_url(message.url) if message.url else None,
        "about": {"type": message.about_type.model if message.about_type_id else None,
                  "id": message.about_id or None, "label": message.about_label},
        "payload": message.payload,
        "created_at": message.created_at.isoformat(),
    }


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def post_webhook(message: OutboxMessage) -> None:
    endpoint = message.endpoint
    if endpoint is None or not endpoint.active:
        raise DeliveryError("the webhook endpoint is inactive", permanent=True)
    if endpoint.owner_id and not endpoint.owner.is_active:  # a person's own robot: only while their account is
        raise DeliveryError("the robot's owner is deactivated", permanent=True)
    url, headers = endpoint.url, {}
    if endpoint.kind == EndpointKind.WECOM:
        data = wecom_payload(message)
    elif endpoint.kind == EndpointKind.DINGTALK:
        data = dingtalk_payload(message)
        if endpoint.secret:
            url = dingtalk_signed_url(url, endpoint.secret, int(clock.now().timestamp() * 1000))
    elif endpoint.kind == EndpointKind.FEISHU:
        data = feishu_payload(message)
        if endpoint.secret:
            timestamp = int(clock.now().timestamp())
            data = {"timestamp": str(timestamp), "sign": feishu_sign(endpoint.secret, timestamp), **data}
    else:
        data = generic_payload(message)
    body = json.dumps(data, ensure_ascii=False, cls=DjangoJSONEncoder).encode("utf-8")
    if endpoint.kind == EndpointKind.GENERIC:
        headers["X-Aftersales-Event"] = message.event
        headers["X-Aftersales-Delivery"] = str(message.pk)
        if endpoint.secret:
            signature = hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Aftersales-Signature"] = f"sha256={signature}"
    answer = _post(url, body, headers)
    _check_errcode(answer, endpoint.kind)


def _post(url: str, body: bytes, headers: dict) -> object:
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError("the webhook address must start with http:// or https://", permanent=True)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "Aftersales-notify", **headers})
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            raw = response.read(RESPONSE_READ_LIMIT)
    except urllib.error.HTTPError as error:  # never put the address in the error: it carries the robot's key
        detail = error.read(500).decode("utf-8", errors="replace").strip()
        error_class = RateLimited if error.code == 429 else DeliveryError
        raise error_class(f"HTTP {error.code}" + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{type(error).__name__}: {reason}") from None
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None  # a generic receiver may answer with anything; a 2xx is a success


def _check_errcode(answer: object, kind: str) -> None:
    """DingTalk, WeCom and Feishu report failure inside an HTTP 200 (lesson 4). Feishu says "code" and "msg" (older
    robots "StatusCode" and "StatusMessage")."""
    if not isinstance(answer, dict):
        return
    if kind == EndpointKind.FEISHU:
        errcode = answer.get("code", answer.get("StatusCode"))
        errmsg = str(answer.get("msg", answer.get("StatusMessage", "")))[:300]
    else:
        errcode, errmsg = answer.get("errcode"), str(answer.get("errmsg", ""))[:300]
    if errcode in (None, 0, "0"):
        return
    if errcode in REMOTE_RATE_LIMIT_ERRCODES.get(kind, ()):
        raise RateLimited(f"errcode {errcode}: {errmsg}")
    raise DeliveryError(f"errcode {errcode}: {errmsg}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A robot never redirects; following one would turn the POST into a GET somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None
