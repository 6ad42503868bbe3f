"""API conventions: scoped viewsets and related fields, and the error body."""

from rest_framework import serializers, viewsets

from .scoping import visible


class ErrorOut(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class ScopedViewSetMixin:
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
