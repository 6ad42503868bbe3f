"""API conventions: scoped viewsets and related fields, and the error body."""

import copy
from functools import wraps

from auditlog.context import auditlog_value
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.relations import MANY_RELATION_KWARGS

from .rows import CompiledByKey, instance_from, row_id
from . import scoping
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


class LeanFields:
    """A serializer mixin for hot input: DRF deep-copies every declared field for each serializer instance, which
    re-runs each field's __init__ (a tenth of a create's CPU). A plain field keeps no state of its own but what
    `bind` sets on it, so a shallow copy serves; fields that hold other fields are deep-copied as DRF does."""

    def get_fields(self):
        return {name: copy.deepcopy(field) if isinstance(field, HOLDS_FIELDS) else copy.copy(field)
                for name, field in self._declared_fields.items()}


HOLDS_FIELDS = (serializers.BaseSerializer, serializers.ManyRelatedField, serializers.ListField, serializers.DictField)


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A related id the caller may see; another customer's id is a 400 'does not exist', never a leak."""

    # Every write checks its related ids: the scoped query by id is compiled once per declared field and scope
    # (core.rows.CompiledValues) instead of being built on each call, which cost more than running it.
    _by_field_and_scope = CompiledByKey()

    def get_queryset(self):
        user = self.context.get("user")
        return visible(super().get_queryset(), user)

    def to_internal_value(self, data):
        pk = row_id(data)
        if self.pk_field is not None or pk is None:
            return super().to_internal_value(data)
        user = self.context.get("user")
        model = self.queryset.model
        names = [field.attname for field in model._meta.concrete_fields]
        compiled = self._by_field_and_scope.get(
            (type(self.root), _path(self), scoping.scope_of(user)),
            lambda pk: self.get_queryset().filter(pk=pk).order_by().values(*names))
        rows = compiled.rows(pk)
        if not rows:
            self.fail("does_not_exist", pk_value=data)
        return instance_from(model, rows[0], using=self.queryset.db)

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS}
        return ScopedPrimaryKeyListField(child_relation=cls(*args, **kwargs), **list_kwargs)


def _path(field) -> tuple:
    """The field's names from its root serializer down: identifies its declaration (and so its queryset) even for
    a nested or list child, whose own name is empty."""
    names = []
    while field is not None and field.parent is not None:
        names.append(field.field_name)
        field = field.parent
    return tuple(reversed(names))


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
