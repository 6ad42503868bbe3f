from functools import partial

from auditlog.cid import correlation_id
from auditlog.context import _set_extra_data, auditlog_value
from auditlog.middleware import AuditlogMiddleware
from django.conf import settings
from django.utils import translation


class ChineseFirstLocaleMiddleware:
    """The UI speaks Simplified Chinese unless the user chose another language (cookie from set_language).
    The browser's Accept-Language is ignored on purpose: our users' browsers are often set to English."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


AUDIT_RECEIVER_UID = "aftersales_audit_context"


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (SEC-2: the actor, address and correlation id of every audit entry), with one
    receiver connected for good instead of one connected and disconnected around every request; connecting cleared
    the pre_save signal's receiver cache each time. The context is the middleware's own and is reset when the
    request ends, so nothing outside a request is attributed to it."""

    def __call__(self, request):
        _set_cid(request)
        context = self.get_extra_data(request)
        context["signal_duid"] = AUDIT_RECEIVER_UID  # auditlog's receiver applies only the context naming it
        token = auditlog_value.set(context)
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(token)

    def get_extra_data(self, request) -> dict:
        """auditlog's, read from request.META: request.headers parses every header into a new mapping."""
        meta = request.META
        forwarded = meta.get("HTTP_X_FORWARDED_FOR")
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            remote_addr = None
        elif not forwarded:
            remote_addr = meta.get("REMOTE_ADDR")
        else:
            remote_addr = forwarded.split(",")[0]
            if "." in remote_addr and ":" in remote_addr:  # IPv4 with a port
                remote_addr = remote_addr.split(":")[0]
            elif "[" in remote_addr:  # [IPv6]:port
                remote_addr = remote_addr[1:].split("]")[0]
        try:
            remote_port = int(meta.get("HTTP_X_FORWARDED_PORT", ""))
        except ValueError:
            remote_port = None
        return {"remote_addr": remote_addr, "remote_port": remote_port, "actor": self._get_actor(request)}


def _set_cid(request) -> None:
    """auditlog's set_cid, reading the correlation header from request.META."""
    if settings.AUDITLOG_CID_GETTER:
        return
    header, meta = settings.AUDITLOG_CID_HEADER, request.META
    cid = None
    if header:
        cid = meta.get("HTTP_" + header.upper().replace("-", "_"), meta.get(header))
    correlation_id.set(cid)


def connect_audit_receiver() -> None:
    from auditlog import get_logentry_model
    from django.db.models.signals import pre_save

    pre_save.connect(partial(_set_extra_data, signal_duid=AUDIT_RECEIVER_UID), sender=get_logentry_model(),
                     dispatch_uid=AUDIT_RECEIVER_UID, weak=False)
