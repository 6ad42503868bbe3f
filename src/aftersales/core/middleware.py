from auditlog.cid import get_cid
from django.conf import settings
from django.utils import translation

from . import request_context


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


class RequestContextMiddleware:
    """The client address and correlation id of each request for core.request_context, reset when it ends.
    Placed after auditlog's AuditlogMiddleware, which reads the correlation id before it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request_context.enter(request, get_cid())
        try:
            return self.get_response(request)
        finally:
            request_context.leave(token)
