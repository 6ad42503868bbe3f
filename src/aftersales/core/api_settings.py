"""DRF settings hooks (no viewset imports here: DRF loads this module while it initialises)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, parsers, permissions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from .busy import RETRY_AFTER_S, busy_body, is_busy
from .errors import DomainError


MAX_JSON_DEPTH = 32  # no body of this API nests deeper than a few levels


class JSONParser(parsers.JSONParser):
    """DRF's, with a bounded depth: a deeply nested body is a 400, not a RecursionError (a 500, and a traceback
    of dozens of log lines per request, also on the anonymous token endpoint)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(_("The JSON body is nested too deeply.")) from None
        if depth_exceeds(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(_("The JSON body is nested too deeply."))
        return data


def depth_exceeds(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class ModelPermissions(permissions.DjangoModelPermissions):
    """Like DRF's, but reading also needs the model's `view` permission."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        # DRF builds the view's scoped queryset only to learn its model (a tenth of a request page API call):
        # a view that declares `queryset` names the model already. The others take DRF's own way.
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return super().has_permission(request, view)
        if not request.user or not request.user.is_authenticated:
            return False
        return request.user.has_perms(self.get_required_permissions(request.method, queryset.model))


def exception_handler(exc, context):
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "detail": str(exc.message)}
        if exc.field:
            body[exc.field] = [str(exc.message)]
        return Response(body, status=exc.status)
    if is_busy(exc):
        return Response(busy_body(), status=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    if isinstance(exc, IntegrityError):
        return Response({"code": "conflict", "detail": _("The change conflicts with existing data.")}, status=409)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


class VerbPermissions(ModelPermissions):
    """For viewsets whose writes are business verbs: every method needs the model's view permission,
    and each verb checks its own permission (e.g. service.handle_request)."""

    perms_map = {method: ["%(app_label)s.view_%(model_name)s"]
                 for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")}
