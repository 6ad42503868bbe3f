"""CUS-4 API: maintenance contracts and their periods, renewals as new periods, and "covered on day D?" for a
device (`GET /api/devices/{id}/coverage/?on=YYYY-MM-DD`). Everything is scoped like projects (core.scoping): another
customer's contract is a 404, a foreign project or device in a body a 400."""

from django.db.models import F, Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from aftersales.assets.models import Device
from aftersales.assets.selectors import retired_refusal
from aftersales.core.api_base import AuditActorMixin, ErrorOut, ScopedPrimaryKeyField, ScopedViewSetMixin, requires
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.clock import today
from aftersales.core.plausible import PlausibleDateSerializerField
from aftersales.core.scoping import get_visible_or_404
from aftersales.customers.models import Project

from . import services
from .coverage import coverage_on, notice_deadline
from .filters import ContractFilter, PeriodFilter
from .models import MAX_NOTICE_DAYS, CoverageKind, CoveragePeriod, ResponseTier, ServiceContract

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


# ------------------------------------------------------------------------------------------------------- out

class PeriodOut(serializers.ModelSerializer):
    renewed_by = serializers.SerializerMethodField(help_text="The period that renews this one, if any.")
    notice_by = serializers.SerializerMethodField(help_text="The last day notice stops the renewal after this period "
                                                            "(its end minus the contract's notice days).")

    class Meta:
        model = CoveragePeriod
        fields = ["id", "contract", "starts_on", "ends_on", "covers_parts", "covers_labour", "covers_onsite",
                  "response_tier", "renews", "renewed_by", "notice_by", "version", "created_at"]
        read_only_fields = fields

    def get_renewed_by(self, period) -> int | None:
        if hasattr(period, "renewal_id"):  # the list's column (PeriodViewSet)
            return period.renewal_id
        renewals = self.context.get("renewals")  # a contract's periods, read together
        if renewals is not None:
            return renewals.get(period.pk)
        return CoveragePeriod.objects.filter(renews=period).values_list("pk", flat=True).first()

    @extend_schema_field(OpenApiTypes.DATE)
    def get_notice_by(self, period):
        return notice_deadline(period.ends_on, period.contract.notice_days).isoformat()


def periods_out(contract: ServiceContract, periods) -> list:
    """A contract's periods, oldest first, answered from rows already read (the contract's prefetch)."""
    periods = sorted(periods, key=lambda p: (p.starts_on, p.pk))
    for period in periods:
        period.contract = contract  # notice_by reads the contract's notice days
    renewals = {p.renews_id: p.pk for p in periods if p.renews_id}
    return PeriodOut(periods, many=True, context={"renewals": renewals}).data


class ContractOut(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="project.customer_id", read_only=True)
    devices = serializers.PrimaryKeyRelatedField(many=True, read_only=True,
                                                 help_text="The devices covered when not the whole project.")
    periods = serializers.SerializerMethodField()

    class Meta:
        model = ServiceContract
        fields = ["id", "number", "customer", "project", "whole_project", "devices", "signed_on", "amount", "renewal",
                  "notice_days", "replacement", "notes", "cancelled_on", "cancel_reason", "version", "created_at",
                  "updated_at", "periods"]
        read_only_fields = fields

    @extend_schema_field(PeriodOut(many=True))
    def get_periods(self, contract):
        return periods_out(contract, contract.periods.all())


# -------------------------------------------------------------------------------------------------------- in

class CoversIn(serializers.Serializer):
    covers_parts = serializers.BooleanField(required=False)
    covers_labour = serializers.BooleanField(required=False)
    covers_onsite = serializers.BooleanField(required=False)
    response_tier = serializers.ChoiceField(choices=ResponseTier.choices, required=False, allow_blank=True,
                                            help_text="7x24, office_hours, next_business_day, or empty: not stated.")


def check_period(data: dict) -> dict:
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if starts and ends and ends < starts:
        raise serializers.ValidationError({"ends_on": ["A period cannot end before it starts."]})
    return data


class ContractTermsIn(serializers.Serializer):
    number = serializers.CharField(max_length=60)
    devices = ScopedPrimaryKeyField(queryset=Device.objects.all(), many=True, required=False,
                                    help_text="Devices of the project the contract covers; empty: the whole project.")
    signed_on = PlausibleDateSerializerField(required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    renewal = serializers.ChoiceField(choices=ServiceContract._meta.get_field("renewal").choices, required=False)
    notice_days = serializers.IntegerField(min_value=0, max_value=MAX_NOTICE_DAYS, required=False)
    replacement = serializers.ChoiceField(choices=ServiceContract._meta.get_field("replacement").choices,
                                          required=False)

    def validate_devices(self, devices):
        """Issue 22 §3: a retired device is not added to a contract (the refusal names its replacement); one the
        contract lists already (`contract` in the context) may stay, as its coverage history."""
        contract = self.context.get("contract")
        listed = contract.devices.values_list("pk", flat=True) if contract is not None else ()
        if refusal := retired_refusal(devices, allowed=listed):
            raise serializers.ValidationError(refusal)
        return devices


class ContractIn(ContractTermsIn, CoversIn):
    """A new contract with its first period."""

    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    starts_on = PlausibleDateSerializerField(help_text="The first period's first day.")
    ends_on = PlausibleDateSerializerField(help_text="The first period's last day (inclusive).")

    def validate(self, data):
        return check_period(data)


class ContractChangeIn(ContractTermsIn):
    """A contract's terms; the fields sent change, the others stay. Its project and periods do not change here."""

    version = serializers.IntegerField(help_text="The version read: a change made since is a 409 (stale).")
    number = serializers.CharField(max_length=60, required=False)


class RenewIn(CoversIn):
    version = serializers.IntegerField(help_text="The contract's version read.")
    starts_on = PlausibleDateSerializerField(required=False, help_text="Default: the day after the latest period ends.")
    ends_on = PlausibleDateSerializerField(required=False, help_text="Default: the same length as the latest period.")

    def validate(self, data):
        return check_period(data)


class CancelIn(serializers.Serializer):
    version = serializers.IntegerField(help_text="The contract's version read.")
    reason = serializers.CharField(max_length=2000)


class PeriodCorrectIn(CoversIn):
    version = serializers.IntegerField(help_text="The period's version read.")
    starts_on = PlausibleDateSerializerField(required=False)
    ends_on = PlausibleDateSerializerField(required=False)


class CoveragePeriodOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CoverageKind.choices)
    starts_on = serializers.DateField(allow_null=True, help_text="Null: from the beginning (no recorded start).")
    ends_on = serializers.DateField()
    covers_parts = serializers.BooleanField(source="parts")
    covers_labour = serializers.BooleanField(source="labour")
    covers_onsite = serializers.BooleanField(source="onsite")
    response_tier = serializers.CharField()
    contract = serializers.IntegerField(source="contract_id", allow_null=True)
    contract_number = serializers.CharField()
    period = serializers.IntegerField(source="period_id", allow_null=True)


class CoverageOut(serializers.Serializer):
    device = serializers.IntegerField()
    on = serializers.DateField()
    covered = serializers.BooleanField()
    covers_parts = serializers.BooleanField()
    covers_labour = serializers.BooleanField()
    covers_onsite = serializers.BooleanField()
    response_tier = serializers.CharField(help_text="The strongest tier of the covering periods; empty: none stated.")
    periods = CoveragePeriodOut(many=True, help_text="The periods covering the day (warranty and contracts).")


class CoverageQueryIn(serializers.Serializer):
    on = PlausibleDateSerializerField(required=False)


# -------------------------------------------------------------------------------------------------- viewsets

def contract_queryset():
    return (ServiceContract.objects.select_related("project")
            .prefetch_related(Prefetch("devices", queryset=Device.objects.only("pk").order_by("pk")), "periods")
            .order_by("-pk"))


class ContractViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """CUS-4: maintenance contracts (维保合同). Writers: dispatchers, department managers, administrators; other staff
    and the customer's own users read."""

    queryset = ServiceContract.objects.all()
    serializer_class = ContractOut
    filterset_class = ContractFilter
    permission_classes = [VerbPermissions]
    search_fields = ["number"]
    ordering_fields = ["number", "signed_on", "created_at"]

    def base_queryset(self):
        return contract_queryset()

    def _out(self, contract, status=200):
        contract = self.base_queryset().get(pk=contract.pk)
        return Response(ContractOut(contract, context=self.get_serializer_context()).data, status=status)

    @extend_schema(request=ContractIn, responses={201: ContractOut, **ERRORS})
    @requires("contracts.add_servicecontract")
    def create(self, request):
        data = ContractIn(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return self._out(services.create_contract(by=request.user, **data.validated_data), status=201)

    @extend_schema(request=ContractChangeIn, responses={200: ContractOut, **ERRORS})
    @requires("contracts.change_servicecontract")
    def partial_update(self, request, pk=None):
        contract = self.get_object()
        data = ContractChangeIn(data=request.data, context={**self.get_serializer_context(), "contract": contract})
        data.is_valid(raise_exception=True)
        return self._out(services.update_contract(contract=contract, by=request.user, **data.validated_data))

    @extend_schema(request=RenewIn, responses={201: PeriodOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("contracts.add_coverageperiod")
    def renew(self, request, pk=None):
        """A renewal is a new period (never an edited end date): by default the same length from the day after the
        latest period ends, covering what it covered."""
        contract = self.get_object()
        data = RenewIn(data=request.data)
        data.is_valid(raise_exception=True)
        period = services.renew(contract=contract, by=request.user, **data.validated_data)
        return Response(periods_out(period.contract, [period])[0], status=201)

    @extend_schema(request=CancelIn, responses={200: ContractOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("contracts.change_servicecontract")
    def cancel(self, request, pk=None):
        """Notice given: the contract is not renewed any more; its periods keep covering until they end."""
        contract = self.get_object()
        data = CancelIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(services.cancel(contract=contract, by=request.user, **data.validated_data))


class PeriodViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The dated periods of the contracts; filter by contract, by a day they cover, or ending within N days."""

    queryset = CoveragePeriod.objects.all()
    serializer_class = PeriodOut
    filterset_class = PeriodFilter
    permission_classes = [VerbPermissions]
    ordering_fields = ["starts_on", "ends_on"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self):
        return (CoveragePeriod.objects.select_related("contract").annotate(renewal_id=F("renewed_by__pk"))
                .order_by("contract", "starts_on", "pk"))

    @extend_schema(request=PeriodCorrectIn, responses={200: PeriodOut, **ERRORS})
    @requires("contracts.change_coverageperiod")
    def partial_update(self, request, pk=None):
        """Correct a period entered wrongly (not a renewal: renew the contract to extend its coverage). It may not
        overlap another period of its contract."""
        period = self.get_object()
        data = PeriodCorrectIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.setdefault("starts_on", period.starts_on)
        values.setdefault("ends_on", period.ends_on)
        check_period(values)
        period = services.correct_period(period=period, by=request.user, **values)
        return Response(PeriodOut(period).data)

    @extend_schema(request=RenewIn, responses={201: PeriodOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("contracts.add_coverageperiod")
    def renew(self, request, pk=None):
        """Renew from this period, which must be its contract's latest (once only)."""
        period = self.get_object()
        data = RenewIn(data=request.data)
        data.is_valid(raise_exception=True)
        renewal = services.renew(period=period, by=request.user, **data.validated_data)
        return Response(PeriodOut(renewal, context={"renewals": {}}).data, status=201)


class DeviceCoverageView(AuditActorMixin, GenericAPIView):
    """CUS-4: what covers a device on a day — its warranty and contract periods and the union of what they cover."""

    queryset = Device.objects.all()  # the permission: assets.view_device
    serializer_class = CoverageOut
    pagination_class = None
    filter_backends = []

    @extend_schema(
        operation_id="devices_coverage_retrieve",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH),
                    OpenApiParameter("on", OpenApiTypes.DATE, description="The day asked about (default: today).")],
        responses={200: CoverageOut, 400: ErrorOut, 404: ErrorOut})
    def get(self, request, pk):
        device = get_visible_or_404(Device.objects.all(), request.user, pk=pk)
        query = CoverageQueryIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("on") or today()
        coverage = coverage_on(device, day)
        return Response(CoverageOut({
            "device": device.pk, "on": day, "covered": coverage is not None,
            "covers_parts": bool(coverage and coverage.parts), "covers_labour": bool(coverage and coverage.labour),
            "covers_onsite": bool(coverage and coverage.onsite),
            "response_tier": coverage.response_tier if coverage else "",
            "periods": coverage.periods if coverage else [],
        }).data)


def register(router) -> None:
    router.register("contracts", ContractViewSet, basename="servicecontract")
    router.register("contract-periods", PeriodViewSet, basename="coverageperiod")
