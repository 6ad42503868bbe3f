"""API conventions: scoped viewsets and related fields, and the error body."""

from functools import wraps

from auditlog.context import auditlog_value
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.relations import MANY_RELATION_KWARGS

from .scoping import visible


class ErrorOut(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class AuditActorMixin:
    """SEC-2: DRF authenticates tokens inside the view, after AuditlogMiddleware has run; name the actor in the
    middleware's context. (A nested `auditlog.context.set_actor` would leak one signal receiver per request:
    its exit leaves the inner context in the ContextVar, so the middleware disconnects the wrong receiver.)"""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.user.is_authenticated:
            try:
                context = auditlog_value.get()
            except LookupError:  # AuditlogMiddleware is always installed; nothing to name without it
                return
            context["actor"] = request.user


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
            try:
                ids.append(child.pk_field.to_internal_value(value) if child.pk_field else int(value))
            except (TypeError, ValueError):
                child.fail("incorrect_type", data_type=type(value).__name__)
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
