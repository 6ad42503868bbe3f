"""NOT-1 API: the caller's own in-app notifications; the administrators' list of undelivered messages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from aftersales.core.api_base import ROW_ID_MAX, AuditActorMixin, ErrorOut

from . import selectors, services
from .models import OutboxMessage


class NotificationOut(serializers.ModelSerializer):
    event_label = serializers.CharField(read_only=True)

    class Meta:
        model = OutboxMessage
        fields = ["id", "event", "event_label", "subject", "body", "url", "about_label", "created_at", "read_at"]


class MarkReadIn(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=ROW_ID_MAX), required=False,
                                max_length=500)
    all = serializers.BooleanField(default=False)

    def validate(self, data):
        if not data.get("all") and not data.get("ids"):
            raise ValidationError({"ids": ["Name the notifications to mark read, or send all: true."]})
        return data


class OutboxMessageOut(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient_label", read_only=True)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = OutboxMessage
        fields = ["id", "event", "channel", "recipient", "subject", "state", "attempts", "next_attempt_at",
                  "last_attempt_at", "failed_at", "last_error", "created_at"]


class RetryIn(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=ROW_ID_MAX)


def _bool_param(request, name: str) -> bool | None:
    raw = request.query_params.get(name, "")
    if raw not in ("", "true", "false"):
        raise ValidationError({name: ["Use true or false."]})
    return None if raw == "" else raw == "true"


class NotificationViewSet(AuditActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own in-app notifications, newest first."""

    # Every user has notifications, so no model permission is asked; and no `queryset` attribute, because the
    # rows are the caller's own (selectors.inbox), not a model scoped by branch or customer.

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = NotificationOut
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OutboxMessage.objects.none()
        notifications = selectors.inbox(self.request.user)
        unread = _bool_param(self.request, "unread")
        if unread is not None:
            notifications = notifications.filter(read_at__isnull=unread)
        return notifications

    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread (true) or read (false)")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=MarkReadIn, responses=inline_serializer("MarkReadOut", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read", url_name="read")
    def mark_read(self, request):
        """Mark some (`ids`) or all (`all: true`) of the caller's notifications read; others' ids are ignored."""
        data = MarkReadIn(data=request.data)
        data.is_valid(raise_exception=True)
        ids = None if data.validated_data["all"] else data.validated_data["ids"]
        return Response({"marked": services.mark_read(user=request.user, ids=ids)})

    @extend_schema(responses=inline_serializer("UnreadCountOut", {"unread": serializers.IntegerField(),
                                                                   "capped": serializers.BooleanField()}))
    @action(detail=False, methods=["get"], url_path="unread-count", pagination_class=None)
    def unread_count(self, request):
        """How many are unread, counted up to 99 (`capped` when there are more), as on the bell."""
        count = selectors.unread_count(request.user)
        return Response({"unread": min(count, selectors.BELL_CAP), "capped": count > selectors.BELL_CAP})


class CanRetry(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("notify.change_outboxmessage")


class OutboxViewSet(AuditActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Administrators: messages not delivered yet (`state=pending`) or given up (`state=failed`)."""

    queryset = OutboxMessage.objects.filter(sent_at=None).order_by("-created_at", "-pk")  # permission: view_outboxmessage
    serializer_class = OutboxMessageOut
    filter_backends = []

    def get_queryset(self):
        state = self.request.query_params.get("state", "")
        if state not in ("", "pending", "failed"):
            raise ValidationError({"state": ["Use pending or failed."]})
        return selectors.undelivered(state)

    @extend_schema(parameters=[OpenApiParameter("state", OpenApiTypes.STR, enum=["pending", "failed"])])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RetryIn, responses={200: OutboxMessageOut, 409: ErrorOut})
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated, CanRetry])
    def retry(self, request):
        """Send a given-up message once more, now."""
        data = RetryIn(data=request.data)
        data.is_valid(raise_exception=True)
        message = get_object_or_404(OutboxMessage, pk=data.validated_data["id"])
        message = services.retry(message_id=message.pk, by=request.user)
        return Response(OutboxMessageOut(message).data)


def register(router) -> None:
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("outbox", OutboxViewSet, basename="outbox")
