"""The client address and correlation id of the request being served, for the verbs' timeline lines (SEC-2).

RequestContextMiddleware (core/middleware.py, after django-auditlog's) sets them for each request and resets them
when it ends; the address is read as auditlog reads it, so a timeline line and an audit entry of one request agree.
"""

from contextvars import ContextVar

from django.conf import settings

_current: ContextVar[tuple] = ContextVar("aftersales_request_context", default=(None, None, None))


def request_context() -> tuple[str | None, str | None]:
    """(address, correlation id) of the current request; (None, None) outside one."""
    address, correlation_id, _port = _current.get()
    return address, correlation_id


def request_port() -> int | None:
    """The client's port as a proxy forwarded it (X-Forwarded-Port), as auditlog records it; None outside a request."""
    return _current.get()[2]


def enter(request, correlation_id: str | None):
    """Make `request` the current one; returns the token for `leave`."""
    return _current.set((client_address(request), correlation_id, forwarded_port(request)))


def leave(token) -> None:
    _current.reset(token)


def client_address(request) -> str | None:
    """REMOTE_ADDR, or behind a proxy the first X-Forwarded-For entry without its port; None when
    AUDITLOG_DISABLE_REMOTE_ADDR is set."""
    if getattr(settings, "AUDITLOG_DISABLE_REMOTE_ADDR", False):
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not forwarded:
        return request.META.get("REMOTE_ADDR")
    address = forwarded.split(",")[0]
    if "." in address and ":" in address:  # IPv4 with a port
        return address.split(":")[0]
    if "[" in address:  # [IPv6]:port
        return address[1:].split("]")[0]
    return address


def forwarded_port(request) -> int | None:
    try:
        return int(request.META.get("HTTP_X_FORWARDED_PORT", ""))
    except ValueError:
        return None
