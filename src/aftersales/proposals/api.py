"""Hidden-danger reports and proposals over the API (LOG-3, LOG-4, issue 25 §4-§5): scoped lists and details with
filters (a customer's user never sees a draft), one POST per verb. A stale `version` or a step the state does not
allow is a 409 with nothing written; another customer's row is a 404; bad input a 400 with the field. The customer's
written answers through the API are portal answers (`via` portal, the caller's user, the typed `name`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from aftersales.assets.models import Device
from aftersales.core.api_base import (
    AuditActorMixin,
    ErrorOut,
    ScopedPrimaryKeyField,
    require_perm,
    requires,
)
from aftersales.core.api_settings import VerbPermissions
from aftersales.customers.models import Project
from aftersales.inspections.models import InspectionRound
from aftersales.service.models import ServiceRequest

from . import selectors, services
from .filters import HazardFilter, ProposalFilter
from .models import (
    AnsweredVia,
    FollowUpStep,
    HazardReport,
    Proposal,
    ProposalKind,
    ProposalOption,
    Risk,
    StepState,
)
from .views import ANSWER, MANAGE

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
TEXT = {"required": False, "allow_blank": True, "default": "", "max_length": 8000}
ID = {"min_value": 1, "max_value": 2**63 - 1}


# ------------------------------------------------------------------------------------------------ answers

class HazardReportOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    devices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = HazardReport
        fields = ["id", "number", "project", "customer", "branch", "title", "risk", "found_where", "service_request",
                  "inspection_round", "devices", "description", "consequence", "recommendation", "author", "state",
                  "sent_at", "times_sent", "answered_at", "answered_name", "answered_via", "reject_reason",
                  "created_at", "version"]


class HazardReportListOut(HazardReportOut):
    class Meta(HazardReportOut.Meta):
        fields = [f for f in HazardReportOut.Meta.fields if f not in ("devices", "description", "consequence",
                                                                      "recommendation")]


class ProposalOptionOut(serializers.ModelSerializer):
    class Meta:
        model = ProposalOption
        fields = ["id", "label", "title", "description", "cost", "duration", "impact"]


class FollowUpStepOut(serializers.ModelSerializer):
    class Meta:
        model = FollowUpStep
        fields = ["id", "position", "title", "state", "planned_on", "started_on", "done_on", "note", "updated_at"]


class ProposalListOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    chosen_label = serializers.CharField(source="chosen_option.label", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Proposal
        fields = ["id", "number", "project", "customer", "branch", "kind", "title", "hazard_report",
                  "service_request", "state", "sent_at", "chosen_option", "chosen_label", "answered_at",
                  "answered_name", "answered_via", "decline_reason", "done_at", "created_at", "version"]


class ProposalOut(ProposalListOut):
    options = ProposalOptionOut(many=True, read_only=True)
    steps = FollowUpStepOut(many=True, read_only=True)

    class Meta(ProposalListOut.Meta):
        fields = [*ProposalListOut.Meta.fields, "background", "options", "steps"]


# ------------------------------------------------------------------------------------------------ inputs

class ProposalVersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The version you saw; a stale one is a 409.")


class HazardFieldsIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    risk = serializers.ChoiceField(choices=Risk.choices)
    found_where = serializers.CharField(**{**TEXT, "max_length": 300})
    service_request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all(), required=False, allow_null=True,
                                            default=None)
    inspection_round = ScopedPrimaryKeyField(queryset=InspectionRound.objects.all(), required=False, allow_null=True,
                                             default=None)
    devices = ScopedPrimaryKeyField(queryset=Device.objects.all(), many=True, required=False, default=list)
    description = serializers.CharField(max_length=8000)
    consequence = serializers.CharField(**TEXT)
    recommendation = serializers.CharField(**TEXT)


class CreateHazardIn(HazardFieldsIn):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())


class EditHazardIn(HazardFieldsIn, ProposalVersionIn):
    pass


class SignIn(ProposalVersionIn):
    name = serializers.CharField(max_length=100, help_text="The name the customer types as their signature.")


class HazardRejectIn(SignIn):
    reason = serializers.CharField(max_length=8000)


class ChooseIn(SignIn):
    option = serializers.IntegerField(**ID, help_text="The id of one of the proposal's options.")


class ProposalFieldsIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ProposalKind.choices)
    title = serializers.CharField(max_length=200)
    background = serializers.CharField(**TEXT)
    hazard_report = ScopedPrimaryKeyField(queryset=HazardReport.objects.all(), required=False, allow_null=True,
                                          default=None)
    service_request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all(), required=False, allow_null=True,
                                            default=None)


class CreateProposalIn(ProposalFieldsIn):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())


class EditProposalIn(ProposalFieldsIn, ProposalVersionIn):
    pass


class OptionIn(ProposalVersionIn):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(**TEXT)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default=0)
    duration = serializers.CharField(**{**TEXT, "max_length": 100})
    impact = serializers.CharField(**TEXT)


class RemoveOptionIn(ProposalVersionIn):
    option = serializers.IntegerField(**ID)


class FollowUpStepIn(ProposalVersionIn):
    title = serializers.CharField(max_length=200)
    planned_on = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(**TEXT)


class StepUpdateIn(ProposalVersionIn):
    step = serializers.IntegerField(**ID)
    state = serializers.ChoiceField(choices=StepState.choices)
    on = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(**TEXT)


# ------------------------------------------------------------------------------------------------ viewsets

class VerbViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  viewsets.GenericViewSet):
    permission_classes = [VerbPermissions]

    def data(self, serializer) -> dict:
        data = serializer(data=self.request.data, context={"user": self.request.user})
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def staff_only(self):
        require_perm(self.request, MANAGE)
        if self.request.user.customer_id:
            raise PermissionDenied

    def customer_only(self):
        require_perm(self.request, ANSWER)
        if not self.request.user.customer_id:
            raise PermissionDenied


class HazardReportViewSet(VerbViewSet):
    """LOG-3: hidden-danger reports. Scoped: a customer's user reads their own sent ones; another's is a 404."""

    queryset = HazardReport.objects.all()  # always narrowed by get_queryset()
    filterset_class = HazardFilter

    def get_queryset(self):
        return selectors.hazard_list(self.request.user).prefetch_related("devices").order_by("-created_at", "-pk")

    def get_serializer_class(self):
        return HazardReportOut if self.action == "retrieve" else HazardReportListOut

    def out(self, pk) -> dict:
        return HazardReportOut(selectors.hazard_page(self.request.user, pk)).data

    def report(self) -> HazardReport:
        return selectors.hazard_page(self.request.user, self.kwargs["pk"])

    @extend_schema(request=CreateHazardIn, responses={201: HazardReportOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Write a draft report of a project."""
        self.staff_only()
        report = services.create_hazard_report(by=request.user, **self.data(CreateHazardIn))
        return Response(self.out(report.pk), status=201)

    @extend_schema(request=EditHazardIn, responses={200: HazardReportOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def edit(self, request, pk=None):
        """Change a draft, or revise a rejected report."""
        self.staff_only()
        services.edit_hazard_report(report=self.report(), by=request.user, **self.data(EditHazardIn))
        return Response(self.out(pk))

    @extend_schema(request=ProposalVersionIn, responses={200: HazardReportOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def send(self, request, pk=None):
        """Send a draft (or a revised rejected report) for written confirmation: the contacts get the signed link."""
        self.staff_only()
        services.send_hazard_report(report=self.report(), by=request.user, **self.data(ProposalVersionIn))
        return Response(self.out(pk))

    @extend_schema(request=SignIn, responses={200: HazardReportOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(ANSWER)
    def confirm(self, request, pk=None):
        """The customer confirms the report in writing (their typed name)."""
        self.customer_only()
        services.confirm_hazard_report(report=self.report(), by=request.user, via=AnsweredVia.PORTAL,
                                       **self.data(SignIn))
        return Response(self.out(pk))

    @extend_schema(request=HazardRejectIn, responses={200: HazardReportOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(ANSWER)
    def reject(self, request, pk=None):
        """The customer rejects the report, with the reason."""
        self.customer_only()
        services.reject_hazard_report(report=self.report(), by=request.user, via=AnsweredVia.PORTAL,
                                      **self.data(HazardRejectIn))
        return Response(self.out(pk))


class ProposalViewSet(VerbViewSet):
    """LOG-3/LOG-4: proposals with options. Scoped: a customer's user reads their own sent ones."""

    queryset = Proposal.objects.all()  # always narrowed by get_queryset()
    filterset_class = ProposalFilter

    def get_queryset(self):
        return selectors.proposal_list(self.request.user).order_by("-created_at", "-pk")

    def get_serializer_class(self):
        return ProposalOut if self.action == "retrieve" else ProposalListOut

    def retrieve(self, request, *args, **kwargs):
        return Response(self.out(self.kwargs["pk"]))

    def out(self, pk) -> dict:
        return ProposalOut(selectors.proposal_page(self.request.user, pk)).data

    def proposal(self) -> Proposal:
        return selectors.proposal_page(self.request.user, self.kwargs["pk"])

    def run(self, verb, serializer, **extra):
        proposal = self.proposal()  # another customer's is a 404 whatever the body says
        verb(proposal=proposal, **extra, **self.data(serializer))
        return Response(self.out(proposal.pk))

    @extend_schema(request=CreateProposalIn, responses={201: ProposalOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Write a draft proposal of a project; add options, then send it."""
        self.staff_only()
        proposal = services.create_proposal(by=request.user, **self.data(CreateProposalIn))
        return Response(self.out(proposal.pk), status=201)

    @extend_schema(request=EditProposalIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def edit(self, request, pk=None):
        self.staff_only()
        return self.run(services.edit_proposal, EditProposalIn, by=request.user)

    @extend_schema(request=OptionIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def options(self, request, pk=None):
        """Add an option (labelled A, B, C … in order) to a draft."""
        self.staff_only()
        return self.run(services.add_option, OptionIn, by=request.user)

    @extend_schema(request=RemoveOptionIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="remove-option", url_name="remove-option")
    @requires(MANAGE)
    def remove_option(self, request, pk=None):
        self.staff_only()
        return self.run(services.remove_option, RemoveOptionIn, by=request.user)

    @extend_schema(request=ProposalVersionIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def send(self, request, pk=None):
        """Send to the customer: the options are frozen; the contacts get the signed link."""
        self.staff_only()
        return self.run(services.send_proposal, ProposalVersionIn, by=request.user)

    @extend_schema(request=ChooseIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(ANSWER)
    def choose(self, request, pk=None):
        """The customer chooses exactly one option and confirms in writing (their typed name)."""
        self.customer_only()
        return self.run(services.choose_option, ChooseIn, by=request.user, via=AnsweredVia.PORTAL)

    @extend_schema(request=HazardRejectIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(ANSWER)
    def decline(self, request, pk=None):
        """The customer declines the proposal, with the reason."""
        self.customer_only()
        return self.run(services.decline_proposal, HazardRejectIn, by=request.user, via=AnsweredVia.PORTAL)

    @extend_schema(request=FollowUpStepIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def steps(self, request, pk=None):
        """Add a follow-up step of the chosen option."""
        self.staff_only()
        return self.run(services.add_step, FollowUpStepIn, by=request.user)

    @extend_schema(request=StepUpdateIn, responses={200: ProposalOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="update-step", url_name="update-step")
    @requires(MANAGE)
    def update_step(self, request, pk=None):
        """Move a follow-up step on; the proposal is done when every step is."""
        self.staff_only()
        proposal = self.proposal()
        data = self.data(StepUpdateIn)
        step = proposal.steps.filter(pk=data.pop("step")).first()
        if step is None:
            raise serializers.ValidationError({"step": ["Not a step of this proposal."]})
        services.update_step(step=step, by=request.user, **data)
        return Response(self.out(proposal.pk))


def register(router) -> None:
    router.register("hazard-reports", HazardReportViewSet, basename="hazardreport")
    router.register("proposals", ProposalViewSet, basename="proposal")
