from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from aftersales.core import clock
from aftersales.core.plausible import implausible_message, is_plausible
from aftersales.core.rows import row_id
from aftersales.core.api_base import ScopedModelViewSet, ScopedPrimaryKeyField, ScopedReadOnlyViewSet

from .filters import StaffFilter
from .models import Branch, OnCallShift, Specialty, User
from .selectors import on_duty


class BranchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Branch
        fields = ["id", "name", "code", "address", "latitude", "longitude", "phone"]


class StaffSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "full_name", "position", "specialty", "phone", "email", "branch"]


class OnCallShiftSerializer(serializers.ModelSerializer):
    branch = ScopedPrimaryKeyField(queryset=Branch.objects.all())
    user = ScopedPrimaryKeyField(queryset=User.objects.filter(customer__isnull=True))

    class Meta:
        model = OnCallShift
        fields = ["id", "branch", "user", "specialty", "weekday", "start_time", "end_time", "valid_from", "valid_until"]

    def validate(self, data):
        start, until = data.get("valid_from"), data.get("valid_until")
        if start and until and until < start:
            raise serializers.ValidationError({"valid_until": ["The shift cannot end before it starts."]})
        return data


class BranchViewSet(ScopedReadOnlyViewSet):
    queryset = Branch.objects.order_by("name")
    serializer_class = BranchSerializer


class StaffViewSet(ScopedReadOnlyViewSet):
    queryset = User.objects.filter(customer__isnull=True, is_active=True).select_related("branch").order_by("full_name", "pk")
    serializer_class = StaffSerializer
    filterset_class = StaffFilter


class OnCallShiftViewSet(ScopedModelViewSet):
    queryset = OnCallShift.objects.select_related("user", "branch").order_by("branch", "weekday", "start_time", "pk")
    serializer_class = OnCallShiftSerializer
    filterset_fields = ["branch", "specialty", "user"]

    @extend_schema(
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, description="Instant (ISO 8601); now if omitted"),
            OpenApiParameter("branch", OpenApiTypes.INT),
            OpenApiParameter("specialty", OpenApiTypes.STR, enum=Specialty.values),
        ],
        responses=StaffSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="on-duty", pagination_class=None, filter_backends=[])
    def on_duty(self, request):
        """ORG-2: who is on duty at an instant, for a branch and specialty."""
        raw_at = request.query_params.get("at")
        try:
            at = parse_datetime(raw_at) if raw_at else clock.now()
        except ValueError:  # well-formed but no such day (30 February)
            at = None
        if at is None or at.tzinfo is None:
            raise ValidationError({"at": ["Give an ISO 8601 date and time with a UTC offset."]})
        if not is_plausible(at):
            raise ValidationError({"at": [implausible_message()]})
        specialty = request.query_params.get("specialty") or None
        if specialty and specialty not in Specialty.values:
            raise ValidationError({"specialty": [f"Unknown specialty; use one of {', '.join(Specialty.values)}."]})
        branch = request.query_params.get("branch")
        if branch and row_id(branch) is None:
            raise ValidationError({"branch": ["A branch id is a number."]})
        users = on_duty(self.get_queryset(), at=at, branch=row_id(branch) if branch else None, specialty=specialty)
        return Response(StaffSerializer(users, many=True).data)


def register(router) -> None:
    router.register("branches", BranchViewSet, basename="branch")
    router.register("staff", StaffViewSet, basename="staff")
    router.register("shifts", OnCallShiftViewSet, basename="oncallshift")
