from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from aftersales.accounts.models import Branch
from aftersales.core.api_base import ErrorOut, ScopedModelViewSet, ScopedPrimaryKeyField
from aftersales.core.plausible import plausible_extra_kwargs

from . import services
from .filters import CustomerFilter, ProjectFilter
from .models import Customer, DeadlineExtension, Milestone, Project


class CustomerSerializer(serializers.ModelSerializer):
    branch = ScopedPrimaryKeyField(queryset=Branch.objects.all())

    class Meta:
        model = Customer
        fields = ["id", "name", "short_name", "branch", "address", "phone", "notes", "created_at", "updated_at"]


class DeadlineExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadlineExtension
        fields = ["id", "days", "reason", "recorded_by", "created_at"]
        read_only_fields = ["recorded_by"]


class MilestoneSerializer(serializers.ModelSerializer):
    extensions = DeadlineExtensionSerializer(many=True, read_only=True)
    extended_deadline = serializers.DateField(read_only=True)
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())

    class Meta:
        model = Milestone
        fields = ["id", "project", "kind", "contract_deadline", "extension_days", "extended_deadline",
                  "actual_date", "place", "notes", "extensions"]
        read_only_fields = ["extension_days"]
        extra_kwargs = plausible_extra_kwargs("contract_deadline", "actual_date")  # issue 20: 2000 to today + 10 years


class ProjectSerializer(serializers.ModelSerializer):
    customer = ScopedPrimaryKeyField(queryset=Customer.objects.all())
    branch = ScopedPrimaryKeyField(queryset=Branch.objects.all())

    class Meta:
        model = Project
        fields = ["id", "customer", "branch", "name", "contract_number", "site_address", "latitude", "longitude",
                  "contract_signed_on", "service_starts_on", "service_ends_on", "manufacturer_warranty_months",
                  "integrator_warranty_months", "accepted_on", "created_at", "updated_at"]
        extra_kwargs = plausible_extra_kwargs("contract_signed_on", "service_starts_on", "service_ends_on")  # issue 20

    def validate(self, data):
        starts = data.get("service_starts_on", getattr(self.instance, "service_starts_on", None))
        ends = data.get("service_ends_on", getattr(self.instance, "service_ends_on", None))
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"service_ends_on": ["The service period cannot end before it starts."]})
        return data


class ExtendIn(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=3650)
    reason = serializers.CharField(max_length=2000)


class CustomerViewSet(ScopedModelViewSet):
    queryset = Customer.objects.select_related("branch").order_by("name", "pk")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["name", "created_at"]


class ProjectViewSet(ScopedModelViewSet):
    queryset = Project.objects.select_related("customer", "branch").order_by("-pk")
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    ordering_fields = ["name", "contract_number", "accepted_on"]

    def perform_update(self, serializer):
        services.save_project(project=serializer.save())


class MilestoneViewSet(ScopedModelViewSet):
    queryset = Milestone.objects.select_related("project").prefetch_related("extensions").order_by("project", "pk")
    serializer_class = MilestoneSerializer
    filterset_fields = ["project", "kind"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.save_milestone(milestone=Milestone(**serializer.validated_data))

    def perform_update(self, serializer):
        for key, value in serializer.validated_data.items():
            setattr(serializer.instance, key, value)
        services.save_milestone(milestone=serializer.instance)


    @extend_schema(request=ExtendIn, responses={200: MilestoneSerializer, 400: ErrorOut, 404: ErrorOut})
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """CUS-2: record an owner-caused delay; the deadline moves by `days`."""
        if not request.user.has_perm("customers.add_deadlineextension"):
            raise PermissionDenied
        milestone = self.get_object()
        data = ExtendIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.extend_deadline(milestone=milestone, by=request.user, **data.validated_data)
        return Response(MilestoneSerializer(self.get_object(), context=self.get_serializer_context()).data)


def register(router) -> None:
    router.register("customers", CustomerViewSet, basename="customer")
    router.register("projects", ProjectViewSet, basename="project")
    router.register("milestones", MilestoneViewSet, basename="milestone")
