"""API conventions: scoped viewsets and related fields, and the error body."""

from contextlib import ExitStack
from contextvars import copy_context
from functools import wraps

from auditlog.context import set_actor
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.relations import MANY_RELATION_KWARGS

from .converters import ROW_ID_REGEX
from .request_context import client_address, forwarded_port
from .rows import row_id
from .scoping import visible


ROW_ID_MAX = 2**63 - 1  # the databases' 64-bit keys: an id field's bound (a bigger number is an OverflowError in SQLite)


class ErrorOut(serializers.Serializer):
    """The one error body of the API: every 4xx and 5xx answer under /api/."""

    code = serializers.CharField(help_text="Stable, for programs: `invalid`, `not_found`, `permission_denied`, "
                                           "`stale`, `illegal_transition`, `conflict`, `throttled`, `locked_out`, "
                                           "`busy`, ….")
    detail = serializers.CharField(help_text="One sentence for people, in the caller's language.")
    fields = serializers.DictField(
        required=False,
        help_text="Validation errors only: the messages per field, `{\"field\": [\"message\"]}`, nested like the "
                  "input (`{\"items\": [{}, {\"qty\": [\"…\"]}]}`); errors about no one field under "
                  "`non_field_errors`.")


class AuditActorMixin:
    """SEC-2: DRF authenticates a token inside the view, after auditlog's middleware took the request's user (still
    anonymous) as the actor; a write names its user with auditlog's `set_actor` from `initial()`, once DRF has
    authenticated, until the view has answered. All of it runs in a copy of the request's context: `set_actor` leaves
    its own value in auditlog's context variable when it ends, and the middleware, which disconnects the receiver
    of whatever value it finds there, would otherwise leave its own receiver connected for good."""

    lookup_value_regex = ROW_ID_REGEX  # the router's id in the URL: anything else is a 404, never a 500

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:  # nothing to name: no context to copy
            return super().dispatch(request, *args, **kwargs)
        return copy_context().run(self.dispatch_naming_the_actor, request, *args, **kwargs)

    def dispatch_naming_the_actor(self, request, *args, **kwargs):
        with ExitStack() as self.audit_actor:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS and request.user.is_authenticated:
            self.audit_actor.enter_context(set_actor(
                request.user, remote_addr=client_address(request), remote_port=forwarded_port(request)))


class ScopedViewSetMixin(AuditActorMixin):
    """`base_queryset()` returns the unscoped query; every list, retrieve and write is scoped."""

    def base_queryset(self):
        return self.queryset.all()

    def get_queryset(self):
        return visible(self.base_queryset(), self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A related id the caller may see; another customer's id is a 400 'does not exist', never a leak."""

    def get_queryset(self):
        user = self.context.get("user")
        return visible(super().get_queryset(), user)

    def to_internal_value(self, data):
        pk = row_id(data)
        if self.pk_field is not None or pk is None:  # DRF's own answer: 'incorrect type' or 'does not exist'
            return super().to_internal_value(data)
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            self.fail("does_not_exist", pk_value=data)
        return found

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
        return ScopedPrimaryKeyListField(child_relation=cls(*args, **kwargs), **list_kwargs)


class ScopedPrimaryKeyListField(serializers.ManyRelatedField):
    """Several ids read with one query (DRF's many=True reads each id with its own)."""

    def to_internal_value(self, data):
        if isinstance(data, str) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        data = list(data)
        if not self.allow_empty and not data:
            self.fail("empty")
        child = self.child_relation
        ids = []
        for value in data:
            if isinstance(value, bool):
                child.fail("incorrect_type", data_type=type(value).__name__)
            if child.pk_field:
                ids.append(child.pk_field.to_internal_value(value))
                continue
            pk = row_id(value)
            if pk is None:  # not an id, or beyond the databases' keys: no such row
                if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
                    child.fail("does_not_exist", pk_value=value)
                child.fail("incorrect_type", data_type=type(value).__name__)
            ids.append(pk)
        found = {obj.pk: obj for obj in child.get_queryset().filter(pk__in=set(ids))}
        for value in ids:
            if value not in found:
                child.fail("does_not_exist", pk_value=value)
        return [found[value] for value in ids]


def require_perm(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


def requires(perm: str):
    """A verb's own permission, checked before it runs and readable by the URL-walk test."""

    def decorate(method):
        @wraps(method)
        def checked(self, request, *args, **kwargs):
            require_perm(request, perm)
            return method(self, request, *args, **kwargs)

        checked.required_permission = perm
        return checked

    return decorate


ERROR_RESPONSES = {  # status: (component name, description); every one answers ErrorOut
    "400": ("BadRequest", "Not valid: `code` `invalid` with the messages per field in `fields`, or a body that "
                          "cannot be parsed (`parse_error`), or a malformed request (`bad_request`)."),
    "401": ("Unauthorized", "No valid credentials (`not_authenticated`, `authentication_failed`)."),
    "403": ("Forbidden", "Not allowed for this user (`permission_denied`), or not logged in."),
    "404": ("NotFound", "No such object among the caller's (another customer's looks the same), or no such page "
                        "(`not_found`)."),
    "406": ("NotAcceptable", "No representation matching the Accept header (`not_acceptable`)."),
    "409": ("Conflict", "The change conflicts with the current state or with existing data (`stale`, "
                        "`illegal_transition`, `conflict`)."),
    "415": ("UnsupportedMediaType", "A body in a media type this operation does not read (`unsupported_media_type`)."),
    "429": ("TooManyRequests", "Too many requests or failed logins (`throttled`, `locked_out`); see Retry-After."),
    "500": ("ServerError", "A fault on the server's side (`server_error`)."),
    "503": ("Busy", "The database is busy (`busy`); see Retry-After."),
}
WRITES = {"post", "put", "patch", "delete"}


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the error answers it may give, all in the one
    error body (ErrorOut), as shared responses (`#/components/responses/...`); answers an operation documents itself
    (e.g. a 400 with more detail) are kept."""
    components = result.setdefault("components", {})
    components.setdefault("responses", {}).update({
        name: {"description": description,
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for name, description in ERROR_RESPONSES.values()
    })
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in {"get", "head", "options", "post", "put", "patch", "delete"}:
                continue
            codes = {"400", "401", "403", "404", "406", "429", "500", "503"}
            if method in WRITES:
                codes |= {"409"}
            if "requestBody" in operation or method in WRITES:
                codes |= {"415"}
            responses = operation.setdefault("responses", {})
            for code in sorted(codes - set(responses)):
                responses[code] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[code][0]}"}
    return result


class LocalTimeField(OpenApiSerializerFieldExtension):
    """A DRF TimeField is a wall-clock time, "08:30:00", with no UTC offset; OpenAPI's (JSON Schema's) `time` format is
    RFC 3339's full-time, which needs one ("08:30:00+08:00"), so documenting it as `time` would make every answer
    fail its own schema."""

    target_class = "rest_framework.fields.TimeField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "partial-time", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
                "example": "08:30:00"}
