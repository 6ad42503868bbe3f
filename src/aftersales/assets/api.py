from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.fields import empty
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from aftersales.core.api_base import ErrorOut, ScopedModelViewSet, ScopedPrimaryKeyField
from aftersales.core.converters import ROW_ID_REGEX
from aftersales.core.clock import today
from aftersales.core.plausible import plausible_extra_kwargs
from aftersales.customers.models import Project

from . import importing
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
            "retired_at", "replaced_by", "created_at", "updated_at",
        ]
        # issue 20: the dates people send, 2000 to today + 10 years (core/plausible.py)
        extra_kwargs = plausible_extra_kwargs(
            "installed_on", "warranty_start_override", "manufacturer_warranty_end_override", "warranty_end_override")

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


class DryRunField(serializers.BooleanField):
    """Absent means true, also in a multipart form (DRF would read a missing checkbox as false and commit)."""

    default_empty_html = empty


class DeviceImportIn(serializers.Serializer):
    file = serializers.FileField(help_text="The device list, .xlsx or .csv (UTF-8 or GB18030), at most 5 MB and 20,000 rows.")
    project = ScopedPrimaryKeyField(
        queryset=Project.objects.all(), required=False, allow_null=True,
        help_text="Rows without a contract number (项目合同号) go into this project; the column may then be absent.",
    )
    dry_run = DryRunField(default=True, help_text="true (default): only return the plan. false: write every row or none.")


class ImportChangeOut(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class ImportRowOut(serializers.Serializer):
    line = serializers.IntegerField(help_text="Row number in the sheet.")
    action = serializers.ChoiceField(choices=list(importing.ACTION_LABELS))
    contract_number = serializers.CharField(allow_null=True)
    serial_number = serializers.CharField()
    manufacturer = serializers.CharField()
    new_manufacturer = serializers.BooleanField()
    device = serializers.IntegerField(allow_null=True, help_text="The existing device a row updates.")
    changes = ImportChangeOut(many=True)
    errors = serializers.ListField(child=serializers.CharField())


class ImportCountsOut(serializers.Serializer):
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error = serializers.IntegerField()


class DeviceImportOut(serializers.Serializer):
    dry_run = serializers.BooleanField()
    written = serializers.BooleanField(help_text="Whether anything was written.")
    counts = ImportCountsOut()
    new_manufacturers = serializers.ListField(child=serializers.CharField())
    ignored_columns = serializers.ListField(child=serializers.CharField())
    rows = ImportRowOut(many=True)


class DeviceImportErrorOut(serializers.Serializer):
    """The API's error body (ErrorOut); with invalid_rows also the counts and every row."""

    code = serializers.CharField(help_text="invalid (a bad field: file, project, dry_run), invalid_file or invalid_rows.")
    detail = serializers.CharField()
    fields = serializers.DictField(required=False, help_text="With invalid: the messages per field.")
    counts = ImportCountsOut(required=False)
    rows = ImportRowOut(many=True, required=False, help_text="With invalid_rows: every row, errors included.")


class DeviceImportColumnOut(serializers.Serializer):
    field = serializers.CharField()
    header = serializers.CharField()
    synonyms = serializers.ListField(child=serializers.CharField())
    required = serializers.BooleanField()


class DeviceImportFormatOut(serializers.Serializer):
    columns = DeviceImportColumnOut(many=True)
    max_bytes = serializers.IntegerField()
    max_rows = serializers.IntegerField()
    formats = serializers.ListField(child=serializers.CharField())


def import_plan_body(plan: importing.ImportPlan, *, dry_run: bool, written: bool) -> dict:
    return {
        "dry_run": dry_run,
        "written": written,
        "counts": plan.counts,
        "new_manufacturers": plan.new_manufacturers,
        "ignored_columns": plan.file.ignored_columns,
        "rows": [
            {
                "line": row.line, "action": row.action,
                "contract_number": row.project.contract_number if row.project else row.values.get("contract_number") or None,
                "serial_number": row.values.get("serial_number") or "",
                "manufacturer": row.values.get("manufacturer") or "",
                "new_manufacturer": row.new_manufacturer,
                "device": row.device.pk if row.device else None,
                "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in row.changes],
                "errors": row.errors,
            }
            for row in plan.rows
        ],
    }


class DeviceViewSet(ScopedModelViewSet):
    queryset = Device.objects.select_related("project").order_by("-pk")
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    ordering_fields = ["name", "serial_number", "warranty_end", "installed_on"]
    search_fields = ["serial_number", "name", "model"]

    def filter_queryset(self, queryset):
        """The list is filtered (in service by default: DeviceFilter's `status`); one device by its id is found
        whatever its status, so a retired device still answers with its history (issue 22 §3)."""
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        summary="Import format",
        description="The columns a device import accepts (CUS-3), with their accepted synonyms and the limits.",
        responses={200: DeviceImportFormatOut},
    )
    @action(
        detail=False, methods=["get"], url_path="import", url_name="import", pagination_class=None, filter_backends=[],
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_format(self, request):
        return Response({
            "columns": [
                {"field": c.field, "header": c.header, "synonyms": list(c.synonyms), "required": c.required}
                for c in importing.COLUMNS
            ],
            "max_bytes": importing.MAX_BYTES,
            "max_rows": importing.MAX_ROWS,
            "formats": ["xlsx", "csv"],
        })

    @extend_schema(
        summary="Import devices",
        description=(
            "Upload a device list (CUS-3). The matching key is (manufacturer, serial number): a device already "
            "registered in the same project is updated, one in another project is a row error. With dry_run=true "
            "(the default) nothing is written and the plan is returned. With dry_run=false every row is written in "
            "one transaction, or, if any row has an error, nothing at all (400 with the row errors). "
            "Needs assets.add_device and assets.change_device."
        ),
        request={"multipart/form-data": DeviceImportIn},
        responses={
            200: DeviceImportOut,
            400: OpenApiResponse(DeviceImportErrorOut, description="A bad file, a bad field, or row errors; nothing written."),
            403: ErrorOut,
            409: OpenApiResponse(ErrorOut, description="The same devices were registered concurrently; nothing written."),
        },
    )
    @import_format.mapping.post
    def import_devices(self, request):
        if not request.user.has_perms(["assets.add_device", "assets.change_device"]):
            raise PermissionDenied()
        data = DeviceImportIn(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        upload, project, dry_run = data.validated_data["file"], data.validated_data.get("project"), data.validated_data["dry_run"]
        try:
            importing.check_upload(upload.name, upload.size)
            parsed = importing.parse(
                upload.name, upload.read(importing.MAX_BYTES + 1), contract_optional=project is not None
            )
            if dry_run:
                plan = importing.plan(parsed, request.user, default_project=project)
                return Response(import_plan_body(plan, dry_run=True, written=False))
            plan, result = importing.commit(
                parsed, request.user, default_project=project, **importing.request_address(request)
            )
        except importing.RowErrors as error:
            body = import_plan_body(error.plan, dry_run=dry_run, written=False)
            return Response(
                {"code": error.code, "detail": str(error.message), "counts": body["counts"], "rows": body["rows"]},
                status=400,
            )
        return Response(import_plan_body(plan, dry_run=False, written=result.written))


class DeviceCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ROW_ID_REGEX
    queryset = DeviceCategory.objects.order_by("name")
    serializer_class = DeviceCategorySerializer
    pagination_class = None


class ManufacturerViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = ROW_ID_REGEX
    queryset = Manufacturer.objects.order_by("name")
    serializer_class = ManufacturerSerializer
    pagination_class = None


def register(router) -> None:
    router.register("devices", DeviceViewSet, basename="device")
    router.register("device-categories", DeviceCategoryViewSet, basename="devicecategory")
    router.register("manufacturers", ManufacturerViewSet, basename="manufacturer")
