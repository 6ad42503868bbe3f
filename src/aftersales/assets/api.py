from datetime import timedelta

from rest_framework import serializers

from aftersales.core.api import ScopedModelViewSet, ScopedPrimaryKeyField
from aftersales.core.clock import today
from aftersales.customers.models import Project

from .filters import DeviceFilter
from .models import Device, DeviceCategory, Manufacturer
from rest_framework import viewsets


class DeviceSerializer(serializers.ModelSerializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    warranty_state = serializers.SerializerMethodField()

    class Meta:
        model = Device
        fields = [
            "id", "project", "category", "manufacturer", "name", "model", "serial_number", "location",
            "installed_on", "supplier", "notes", "warranty_start_override", "manufacturer_warranty_end_override",
            "warranty_end_override", "warranty_start", "manufacturer_warranty_end", "warranty_end", "warranty_state",
            "created_at", "updated_at",
        ]

    def get_warranty_state(self, device) -> str:
        return device.warranty_status(today()).state.value

    def validate_serial_number(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("A serial number is required.")
        return value


class DeviceCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceCategory
        fields = ["id", "name", "code"]


class ManufacturerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Manufacturer
        fields = ["id", "name"]


class DeviceViewSet(ScopedModelViewSet):
    queryset = Device.objects.select_related("project").order_by("-pk")
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    ordering_fields = ["name", "serial_number", "warranty_end", "installed_on"]
    search_fields = ["serial_number", "name", "model"]


class DeviceCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = DeviceCategory.objects.order_by("name")
    serializer_class = DeviceCategorySerializer
    pagination_class = None


class ManufacturerViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Manufacturer.objects.order_by("name")
    serializer_class = ManufacturerSerializer
    pagination_class = None


def register(router) -> None:
    router.register("devices", DeviceViewSet, basename="device")
    router.register("device-categories", DeviceCategoryViewSet, basename="devicecategory")
    router.register("manufacturers", ManufacturerViewSet, basename="manufacturer")
