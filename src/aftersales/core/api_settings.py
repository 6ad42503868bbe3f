"""DRF settings hooks (no viewset imports here: DRF loads this module while it initialises)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, parsers, permissions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

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
    """Every error of the API answers one body (ErrorOut): `{"code", "detail", "fields"?}` — see `error_body`."""
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "detail": str(exc.message)}
        if exc.field:
            body["fields"] = {exc.field: [str(exc.message)]}
        return Response(body, status=exc.status)
    if is_busy(exc):
        return Response(busy_body(), status=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    if isinstance(exc, IntegrityError):
        return Response({"code": "conflict", "detail": _("The change conflicts with existing data.")}, status=409)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)  # DRF's status, headers (Retry-After, WWW-Authenticate), rollback
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = error_body(exc)
    return response


def error_body(exc: exceptions.APIException) -> dict:
    """The API's one error body for a DRF exception:

    - `code`: what went wrong, stable for programs: `invalid` for any validation error, else DRF's code
      (`parse_error`, `not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`,
      `method_not_allowed`, `not_acceptable`, `unsupported_media_type`, `throttled`, …).
    - `detail`: one sentence for people. For a validation error: the first error that is not about one field (e.g. "The
      shift cannot end before it starts."), else the only message when there is one, else "Check the fields marked.".
    - `fields` (validation errors only): DRF's messages per field, `{"field": ["message", …]}`, nested as the input
      is (`{"address": {"city": [...]}}`, `{"items": [{}, {"qty": [...]}]}`); errors about no one field stay in it
      under `non_field_errors`, so `fields` keeps every message.
    """
    if not isinstance(exc, exceptions.ValidationError):
        code = exc.get_codes()
        return {"code": code if isinstance(code, str) else exc.default_code,
                "detail": str(exc.detail if isinstance(exc.detail, str) else exc.default_detail)}
    errors = exc.detail
    if isinstance(errors, dict):
        fields = errors
    elif isinstance(errors, list) and errors:  # raise ValidationError("…") or ValidationError(["…"]): about no field
        fields = {api_settings.NON_FIELD_ERRORS_KEY: errors}
    else:
        fields = {api_settings.NON_FIELD_ERRORS_KEY: [str(errors or exc.default_detail)]}
    general = [str(message) for message in messages(fields.get(api_settings.NON_FIELD_ERRORS_KEY, []))]
    every = [str(message) for message in messages(fields)]
    detail = general[0] if general else every[0] if len(every) == 1 else _("Check the fields marked.")
    return {"code": "invalid", "detail": detail, "fields": fields}


def messages(errors):
    """The messages of a DRF error structure (dicts of lists of messages, nested), in order."""
    if isinstance(errors, dict):
        for value in errors.values():
            yield from messages(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from messages(value)
    elif errors is not None:
        yield errors


class VerbPermissions(ModelPermissions):
    """For viewsets whose writes are business verbs: every method needs the model's view permission,
    and each verb checks its own permission (e.g. service.handle_request)."""

    perms_map = {method: ["%(app_label)s.view_%(model_name)s"]
                 for method in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")}
