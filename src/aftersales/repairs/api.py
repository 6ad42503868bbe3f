"""Repair cases and loans over the API (REP-1, issue 22 §2-§4): scoped lists and details with filters, one POST per
step of the state machine (transitions.TRANSITIONS), the RMA details, loans lent and returned. A stale `version` or an
illegal step is a 409 with nothing written; another customer's case is a 404."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.assets.models import Device, Manufacturer
from aftersales.billing import services as billing_services
from aftersales.billing.api import ChargeSheetOut, ExceptionIn, sheet_of, sheet_out
from aftersales.core import clock
from aftersales.core.api_base import (
    AuditActorMixin,
    ErrorOut,
    ScopedPrimaryKeyField,
    require_perm,
    requires,
)
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.plausible import PlausibleDateSerializerField
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.parts.models import Location, Part
from aftersales.service.models import ServiceRequest

from . import selectors, services, transitions
from .filters import CaseFilter, LoanFilter
from .models import (
    DeviceReplacement,
    Loan,
    RepairCase,
    RepairStep,
    ReplacementSource,
    VendorRma,
    Verdict,
)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
NOTE = {"required": False, "allow_blank": True, "default": "", "max_length": 4000}


# ------------------------------------------------------------------------------------------------ answers

class RepairStepOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.display_name", default=None)

    class Meta:
        model = RepairStep
        fields = ["id", "kind", "from_state", "to_state", "at", "actor", "note", "data"]


class VendorRmaOut(serializers.ModelSerializer):
    vendor = serializers.CharField(read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = VendorRma
        fields = ["id", "case", "rma_number", "manufacturer", "vendor", "vendor_name", "carrier", "tracking_number",
                  "sent_on", "expected_back_on", "returned_on", "verdict", "returned_serial", "vendor_report",
                  "overdue"]

    def get_overdue(self, rma) -> bool:
        return rma.returned_on is None and rma.expected_back_on is not None and rma.expected_back_on < clock.today()


class LoanOut(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Loan
        fields = ["id", "case", "unit_serial", "unit_model", "lent_to", "lent_at", "due_back_on", "returned_at",
                  "note", "return_note", "overdue", "version"]

    def get_overdue(self, loan) -> bool:
        return loan.is_overdue(clock.today())


class DeviceReplacementOut(serializers.ModelSerializer):
    old_serial = serializers.CharField(source="old.serial_number")
    new_serial = serializers.CharField(source="new.serial_number")

    class Meta:
        model = DeviceReplacement
        fields = ["old", "old_serial", "new", "new_serial", "source", "from_where", "at"]


class RepairCaseListOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    device_serial = serializers.CharField(source="device.serial_number")
    rma_overdue = serializers.BooleanField(read_only=True, default=False)
    loan_overdue = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = RepairCase
        fields = ["id", "number", "device", "device_serial", "customer", "branch", "service_request", "finding_ref",
                  "opened_from", "state", "replacement_source", "replaced_by", "opened_at", "ended_at", "version",
                  "rma_overdue", "loan_overdue"]


class RepairCaseOut(RepairCaseListOut):
    possible = serializers.SerializerMethodField(help_text="The steps the state machine allows from this state now.")
    steps = RepairStepOut(many=True, read_only=True)
    rmas = VendorRmaOut(many=True, read_only=True)
    loans = LoanOut(many=True, read_only=True)
    replacements = DeviceReplacementOut(many=True, read_only=True)
    charge_sheet = serializers.SerializerMethodField(
        help_text="CUS-5: issued when the device is back in service (again after more work) or the case is cancelled; "
                  "null before.")

    class Meta(RepairCaseListOut.Meta):
        fields = [*RepairCaseListOut.Meta.fields, "fault", "possible", "steps", "rmas", "loans", "replacements",
                  "charge_sheet"]

    @extend_schema_field(ChargeSheetOut(allow_null=True))
    def get_charge_sheet(self, case) -> dict | None:
        return sheet_out(sheet_of(case, "repair_case"), self.context)

    def get_possible(self, case) -> list[str]:
        return [t.name for t in transitions.possible_now(case.state)]


# ------------------------------------------------------------------------------------------------ inputs

class RepairVersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The case's version you saw; a stale one is a 409.")


class RepairNoteIn(RepairVersionIn):
    note = serializers.CharField(**NOTE)


class RepairRequiredNoteIn(RepairVersionIn):
    note = serializers.CharField(max_length=4000)


class RepairCancelIn(RepairVersionIn):
    reason = serializers.CharField(max_length=4000)


class OpenRepairCaseIn(serializers.Serializer):
    device = ScopedPrimaryKeyField(queryset=Device.objects.select_related("project"))
    service_request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all(), required=False, allow_null=True,
                                            default=None)
    fault = serializers.CharField(max_length=4000)
    finding_ref = serializers.CharField(required=False, allow_blank=True, default="", max_length=100,
                                        help_text="The inspection finding that opened the case, when one did.")


class PlanReplacementIn(RepairNoteIn):
    source = serializers.ChoiceField(choices=ReplacementSource.choices)


class ReplaceUnitIn(RepairNoteIn):
    serial = serializers.CharField(max_length=100)
    source = serializers.ChoiceField(choices=ReplacementSource.choices,
                                     help_text="stock: one unit of `part` leaves `location` through the parts ledger "
                                               "in the same transaction (409 `out_of_stock`, 403 `wrong_location`: "
                                               "nothing is written).")
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all(), required=False, allow_null=True,
                                              default=None, help_text="source stock only, and then required: the "
                                                                      "catalogue part the unit is taken as.")
    location = ScopedPrimaryKeyField(queryset=Location.objects.all(), required=False, allow_null=True, default=None,
                                     help_text="source stock only: the stock location it is taken from; default "
                                               "the caller's own van.")
    from_where = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    model = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    manufacturer = serializers.PrimaryKeyRelatedField(queryset=Manufacturer.objects.all(), required=False,
                                                      allow_null=True, default=None)


class VendorRmaIn(RepairVersionIn):
    rma_number = serializers.CharField(max_length=60)
    manufacturer = serializers.PrimaryKeyRelatedField(queryset=Manufacturer.objects.all(), required=False,
                                                      allow_null=True, default=None)
    vendor_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    carrier = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    tracking_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    expected_back_on = PlausibleDateSerializerField(required=False, allow_null=True, default=None)


class SendToVendorIn(VendorRmaIn):
    sent_on = PlausibleDateSerializerField(required=False, allow_null=True, default=None,
                                           help_text="Default: today; never in the future.")
    note = serializers.CharField(**NOTE)


class ReturnFromVendorIn(RepairNoteIn):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    returned_on = PlausibleDateSerializerField(required=False, allow_null=True, default=None)
    returned_serial = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    vendor_report = serializers.CharField(**NOTE)


class LendUnitIn(RepairVersionIn):
    case = ScopedPrimaryKeyField(queryset=RepairCase.objects.all())
    unit_serial = serializers.CharField(max_length=100)
    unit_model = serializers.CharField(max_length=100)
    due_back_on = PlausibleDateSerializerField()
    lent_to = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    note = serializers.CharField(**NOTE)


class ReturnLoanIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The loan's version you saw; a stale one is a 409.")
    note = serializers.CharField(**NOTE)


# ------------------------------------------------------------------------------------------------ cases

def step_route(name: str, serializer, verb):
    """One POST per step: the step's own permission (from the table), its input, the verb, the case as it is now."""

    def route(self, request, pk=None):
        return self.run(verb, serializer)

    route.__name__ = route.__qualname__ = name  # DRF maps the route to the method by this name
    transition = transitions.TRANSITIONS[name]
    route.__doc__ = (f"Step `{name}`: from {', '.join(sorted(transition.sources))} to {transition.target}.")
    route = requires(transition.permission)(route)
    route = action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=name.replace("_", "-"))(route)
    return extend_schema(request=serializer, responses={200: RepairCaseOut, **ERRORS})(route)


class RepairCaseViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """REP-1: repair cases. Lists are scoped (a customer's user reads their own); another customer's case is a 404."""

    queryset = RepairCase.objects.all()  # always narrowed by get_queryset()
    filterset_class = CaseFilter
    permission_classes = [VerbPermissions]
    ordering_fields = ["opened_at", "updated_at", "id"]

    def get_queryset(self):
        return selectors.board_cases(self.request.user).order_by("-pk")

    def get_serializer_class(self):
        return RepairCaseOut if self.action == "retrieve" else RepairCaseListOut

    def retrieve(self, request, *args, **kwargs):
        return Response(self.case_out(self.kwargs["pk"]))

    def case_out(self, pk) -> dict:
        try:
            case = selectors.case_page(self.request.user, pk)
        except RepairCase.DoesNotExist:
            raise Http404 from None
        return RepairCaseOut(case, context=self.get_serializer_context()).data

    def _case(self) -> RepairCase:
        return get_visible_or_404(RepairCase.objects.all(), self.request.user, pk=self.kwargs["pk"])

    def run(self, verb, serializer):
        case = self._case()  # another customer's case is a 404 whatever the body says
        data = serializer(data=self.request.data, context={"user": self.request.user})
        data.is_valid(raise_exception=True)
        case = verb(case=case, by=self.request.user, **data.validated_data)
        return Response(self.case_out(case.pk))

    @extend_schema(request=OpenRepairCaseIn, responses={201: RepairCaseOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Open a case on a device: from a service request (`service_request`), from the device, or from an
        inspection finding (`finding_ref`)."""
        require_perm(request, "repairs.work_repair")
        data = OpenRepairCaseIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        case = services.open_case(by=request.user, **data.validated_data)
        return Response(self.case_out(case.pk), status=201)

    repair_on_site = step_route("repair_on_site", RepairNoteIn, services.repair_on_site)
    finish_repair = step_route("finish_repair", RepairRequiredNoteIn, services.finish_repair)
    plan_replacement = step_route("plan_replacement", PlanReplacementIn, services.plan_replacement)
    replace = step_route("replace", ReplaceUnitIn, services.replace)
    send_to_vendor = step_route("send_to_vendor", SendToVendorIn, services.send_to_vendor)
    return_from_vendor = step_route("return_from_vendor", ReturnFromVendorIn, services.return_from_vendor)
    reinstall = step_route("reinstall", RepairNoteIn, services.reinstall)
    rediagnose = step_route("rediagnose", RepairRequiredNoteIn, services.rediagnose)
    close = step_route("close", RepairNoteIn, services.close)
    cancel = step_route("cancel", RepairCancelIn, services.cancel)

    @extend_schema(request=VendorRmaIn, responses={200: RepairCaseOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("repairs.ship_rma")
    def rma(self, request, pk=None):
        """Correct the details of the RMA shipment in flight (not a step: a history line with the changes)."""
        return self.run(services.update_rma, VendorRmaIn)

    @extend_schema(request=ExceptionIn, responses={200: RepairCaseOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("billing.approve_exception")
    def exception(self, request, pk=None):
        """CUS-5: a manager's exception to the billing rule on the case's charge sheet, while the device is back in
        service and the case not yet closed: a line of its own with its reason and the approver."""
        data = ExceptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        billing_services.add_exception(repair_case=self._case(), by=request.user, **data.validated_data)
        return Response(self.case_out(self.kwargs["pk"]))


assert {name for name in transitions.TRANSITIONS if callable(getattr(RepairCaseViewSet, name, None))} \
    == set(transitions.TRANSITIONS), "every step of the table has its API route"


# ------------------------------------------------------------------------------------------------ loans

class LoanViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  viewsets.GenericViewSet):
    """§4: spare units lent while a device is away; one open loan per unit (a 409 names the loan holding it)."""

    queryset = Loan.objects.all()  # always narrowed by get_queryset()
    serializer_class = LoanOut
    filterset_class = LoanFilter
    permission_classes = [VerbPermissions]
    ordering_fields = ["due_back_on", "lent_at", "id"]

    def get_queryset(self):
        return visible(Loan.objects.order_by("-pk"), self.request.user)

    @extend_schema(request=LendUnitIn, responses={201: LoanOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Lend a spare unit on a case (the case's `version`)."""
        require_perm(request, "repairs.lend_unit")
        data = LendUnitIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        loan = services.lend_unit(by=request.user, **data.validated_data)
        return Response(LoanOut(loan).data, status=201)

    @extend_schema(request=ReturnLoanIn, responses={200: LoanOut, **ERRORS}, operation_id="loans_return")
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    @requires("repairs.lend_unit")
    def take_back(self, request, pk=None):
        """The lent unit is back (the loan's `version`)."""
        data = ReturnLoanIn(data=request.data)
        data.is_valid(raise_exception=True)
        loan = services.return_loan(loan=self.get_object(), by=request.user, **data.validated_data)
        return Response(LoanOut(loan).data)


def register(router) -> None:
    router.register("repairs", RepairCaseViewSet, basename="repaircase")
    router.register("loans", LoanViewSet, basename="loan")
