"""NOT-1, issue 21 §12: text messages through a provider adapter.

A provider is any object with `max_chars` and `send(phone, text)`; `send` returns when the provider accepted the
message and raises `channels.DeliveryError` otherwise (`permanent=True` when the number was refused: trying again
cannot help), or `channels.RateLimited` when the provider asks us to slow down. AFTERSALES_SMS_PROVIDER names the
provider (empty: no text messages); `register` adds one. One real adapter ships: Alibaba Cloud SMS (阿里云短信).

Like channels.py, nothing here writes to the database: services.deliver decides what a result means.
"""

import base64
import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Protocol
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from aftersales.core import clock

from .channels import HTTP_TIMEOUT, RESPONSE_READ_LIMIT, DeliveryError, RateLimited, absolute_url
from .models import OutboxMessage


class SmsProvider(Protocol):
    max_chars: int  # the longest text the provider (or its template) takes

    def send(self, phone: str, text: str) -> None:
        """Send `text` to `phone`; raise DeliveryError (permanent for a refused number) or RateLimited."""


_factories: dict[str, Callable[[], SmsProvider]] = {}


def register(name: str, factory: Callable[[], SmsProvider]) -> None:
    """Make a provider available as AFTERSALES_SMS_PROVIDER=`name`; `factory` builds it from the settings."""
    _factories[name] = factory


def enabled() -> bool:
    return bool(settings.AFTERSALES_SMS_PROVIDER)


def provider() -> SmsProvider | None:
    """The configured provider, built from the settings of the moment (cheap: no connection is opened)."""
    name = settings.AFTERSALES_SMS_PROVIDER
    if not name:
        return None
    if name not in _factories:
        raise ImproperlyConfigured(
            f"AFTERSALES_SMS_PROVIDER must be one of {sorted(_factories)} or empty, not {name!r}")
    return _factories[name]()


def sms_text(message: OutboxMessage, max_chars: int) -> str:
    """Subject and link, cut to `max_chars` characters; the link survives unless it alone is too long."""
    subject = " ".join(message.subject.split())
    link = absolute_url(message.url) if message.url else ""
    if link and len(link) + 2 > max_chars:
        link = ""
    room = max_chars - (len(link) + 1 if link else 0)
    if len(subject) > room:
        subject = subject[: max(room - 1, 0)] + "…"
    return f"{subject} {link}" if link else subject


def normalized_phone(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def send_message(message: OutboxMessage) -> None:
    """The outbox's side: one SMS row to its recipient's phone (read now: the number in the profile today)."""
    user = message.recipient_user
    if user is None or not user.is_active:
        raise DeliveryError("the recipient's account is deactivated", permanent=True)
    phone = normalized_phone(user.phone or "")
    if not phone:
        raise DeliveryError("the recipient has no phone number", permanent=True)
    chosen = provider()
    if chosen is None:
        raise DeliveryError("no SMS provider is configured (AFTERSALES_SMS_PROVIDER)", permanent=True)
    chosen.send(phone, sms_text(message, chosen.max_chars))


# --- Alibaba Cloud SMS (Dysmsapi SendSms, RPC style, signature version 1.0) ------------------------------------

ALIYUN_API_VERSION = "2017-05-25"
# SendSms answers HTTP 200 with {"Code": "OK", ...} or an error code. A refused number will never work.
ALIYUN_REFUSED_NUMBER = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.BLACK_KEY_CONTROL_LIMIT",
                         "isv.NOT_SUPPORTED_COUNTRY", "isv.COUNTRY_RESTRICTED"}
ALIYUN_SLOW_DOWN = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL",
                    "isv.BUSINESS_LIMIT_HOUR", "isv.BUSINESS_LIMIT_DAY", "Throttling.User", "Throttling"}


def percent_encode(value: str) -> str:
    """RFC 3986 as Alibaba Cloud signs it: only A-Z a-z 0-9 - _ . ~ stay; a space is %20, * is %2A."""
    return quote(str(value), safe="~")


def rpc_string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(access_key_secret: str, method: str, params: dict[str, str]) -> str:
    """Signature = Base64(HMAC-SHA1(key=AccessKeySecret + "&", StringToSign)), over every parameter but Signature."""
    digest = hmac.new(f"{access_key_secret}&".encode(), rpc_string_to_sign(method, params).encode(), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode()


class AliyunSms:
    """阿里云短信 SendSms: the text goes into one variable of an approved template (${content} by default)."""

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str, template_code: str,
                 template_param: str = "content", endpoint: str, region: str = "cn-hangzhou", max_chars: int = 70):
        missing = [name for name, value in (("ACCESS_KEY_ID", access_key_id), ("ACCESS_KEY_SECRET", access_key_secret),
                                            ("SIGN_NAME", sign_name), ("TEMPLATE_CODE", template_code)) if not value]
        if missing:
            raise ImproperlyConfigured(
                "Alibaba Cloud SMS needs " + ", ".join(f"AFTERSALES_SMS_ALIYUN_{m}" for m in missing))
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise ImproperlyConfigured("AFTERSALES_SMS_ALIYUN_ENDPOINT must start with https://")
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.sign_name, self.template_code, self.template_param = sign_name, template_code, template_param
        self.endpoint, self.region, self.max_chars = endpoint, region, max_chars

    @classmethod
    def from_settings(cls) -> "AliyunSms":
        return cls(access_key_id=settings.AFTERSALES_SMS_ALIYUN_ACCESS_KEY_ID,
                   access_key_secret=settings.AFTERSALES_SMS_ALIYUN_ACCESS_KEY_SECRET,
                   sign_name=settings.AFTERSALES_SMS_ALIYUN_SIGN_NAME,
                   template_code=settings.AFTERSALES_SMS_ALIYUN_TEMPLATE_CODE,
                   template_param=settings.AFTERSALES_SMS_ALIYUN_TEMPLATE_PARAM,
                   endpoint=settings.AFTERSALES_SMS_ALIYUN_ENDPOINT, region=settings.AFTERSALES_SMS_ALIYUN_REGION,
                   max_chars=settings.AFTERSALES_SMS_MAX_CHARS)

    def signed_params(self, phone: str, text: str) -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON", "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "Timestamp": clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": ALIYUN_API_VERSION,
            "PhoneNumbers": phone, "SignName": self.sign_name, "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({self.template_param: text}, ensure_ascii=False),
        }
        return params | {"Signature": rpc_signature(self.access_key_secret, "POST", params)}

    def send(self, phone: str, text: str) -> None:
        body = urlencode(self.signed_params(phone, text), quote_via=quote).encode()
        request = urllib.request.Request(self.endpoint, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "User-Agent": "Aftersales-notify"})
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=HTTP_TIMEOUT) as response:
                status, raw = response.status, response.read(RESPONSE_READ_LIMIT)
        except urllib.error.HTTPError as error:  # Alibaba Cloud answers 4xx with a JSON Code (bad signature, key)
            status, raw = error.code, error.read(RESPONSE_READ_LIMIT)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise DeliveryError(f"{type(error).__name__}: {getattr(error, 'reason', error)}") from None
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            answer = None
        if isinstance(answer, dict):
            code, detail = str(answer.get("Code", "")), str(answer.get("Message", ""))[:300]
        else:
            code, detail = "", raw[:300].decode("utf-8", "replace").strip()
        if status == 200 and code == "OK":
            return
        if code in ALIYUN_REFUSED_NUMBER:
            raise DeliveryError(f"SMS refused: {code}: {detail}", permanent=True)
        if code in ALIYUN_SLOW_DOWN or status == 429:
            raise RateLimited(f"SMS provider asks to slow down: {code or status}: {detail}")
        raise DeliveryError(f"HTTP {status}" + (f" {code}" if code else "") + (f": {detail}" if detail else ""))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """The provider's API never redirects; following one would resend the signed request elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


register("aliyun", AliyunSms.from_settings)
