"""Inspections over the API (issue 23 §1, §3): plans, checklists (each edit a new version), rounds with filters
(project, state, month, engineer) and one POST per move, answers posted per (device, item) with the phone's own id and
time, and the completion figures. A stale `version` or an illegal move is a 409 with nothing written; another
customer's round is a 404; an answer missing its required evidence is a 400 naming the field.

An answer posted twice with the same `client_id` is stored once: 201 the first time, 200 with the stored answer after
(an offline phone resends until it hears back)."""

from decimal import Decimal

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from aftersales.accounts.models import User
from aftersales.assets.models import Device, DeviceCategory
from aftersales.core import clock
from aftersales.core.api_base import AuditActorMixin, ErrorOut, ScopedPrimaryKeyField, require_perm, requires
from aftersales.core.api_settings import JSONParser, VerbPermissions
from aftersales.core.plausible import PlausibleDateSerializerField
from aftersales.customers.models import Project

from . import selectors, services, transitions
from .filters import RoundFilter, PlanFilter
from .report_api import ReportActions
from .models import (
    Answer,
    Cadence,
    ChecklistItem,
    ChecklistTemplate,
    DeviceSelection,
    InspectionPlan,
    InspectionRound,
    ItemKind,
    RoundEvent,
)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
TEXT = {"required": False, "allow_blank": True, "default": "", "max_length": 4000}
VERSION = {"min_value": 1, "max_value": 2**31 - 1, "help_text": "The version you saw; a stale one is a 409."}


# ------------------------------------------------------------------------------------------------ checklists

class ChecklistItemOut(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "position", "kind", "label", "unit", "min_value", "max_value", "evidence_required",
                  "opens_request"]


class ChecklistOut(serializers.ModelSerializer):
    category_code = serializers.CharField(source="category.code", read_only=True)
    current_version = serializers.IntegerField(source="current.number", default=None, read_only=True)
    items = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistTemplate
        fields = ["id", "name", "category", "category_code", "is_active", "current_version", "version", "items"]

    def get_items(self, checklist) -> list[dict]:
        if checklist.current_id is None:
            return []
        return ChecklistItemOut(checklist.current.items.order_by("position"), many=True).data


class ChecklistItemIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    label = serializers.CharField(max_length=200)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    min_value = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True, default=None)
    max_value = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True, default=None)
    evidence_required = serializers.BooleanField(required=False, default=False)
    opens_request = serializers.BooleanField(required=False, default=False,
                                             help_text="A finding on this item opens a service request at once.")


class ChecklistIn(serializers.Serializer):
    category = serializers.PrimaryKeyRelatedField(queryset=DeviceCategory.objects.all())
    name = serializers.CharField(max_length=120)
    items = ChecklistItemIn(many=True, allow_empty=False, max_length=services.MAX_ITEMS)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ChecklistReviseIn(serializers.Serializer):
    version = serializers.IntegerField(**VERSION)
    items = ChecklistItemIn(many=True, allow_empty=False, max_length=services.MAX_ITEMS)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    name = serializers.CharField(required=False, max_length=120, default=None)
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)


class ChecklistViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       viewsets.GenericViewSet):
    """INS-3: checklists per device category; `items` are the current version's. Editing writes a new version."""

    queryset = ChecklistTemplate.objects.all()  # always narrowed by get_queryset()
    serializer_class = ChecklistOut
    permission_classes = [VerbPermissions]
    filterset_fields = ["category", "is_active"]

    def get_queryset(self):
        return selectors.checklists().order_by("category__name", "name", "pk")

    @extend_schema(request=ChecklistIn, responses={201: ChecklistOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        require_perm(request, "inspections.manage_checklists")
        data = ChecklistIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        checklist = services.create_checklist(by=request.user, category=values["category"], name=values["name"],
                                              items=[dict(item) for item in values["items"]], note=values["note"])
        return Response(ChecklistOut(checklist).data, status=201)

    @extend_schema(request=ChecklistReviseIn, responses={200: ChecklistOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("inspections.manage_checklists")
    def revise(self, request, pk=None):
        """A new version of the checklist's items; rounds already started keep theirs."""
        data = ChecklistReviseIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        checklist = services.revise_checklist(checklist=self.get_object(), by=request.user, version=values["version"],
                                              items=[dict(item) for item in values["items"]], note=values["note"],
                                              name=values["name"], is_active=values["is_active"])
        return Response(ChecklistOut(ChecklistTemplate.objects.select_related("current").get(pk=checklist.pk)).data)


# ------------------------------------------------------------------------------------------------ plans

class PlanOut(serializers.ModelSerializer):
    class Meta:
        model = InspectionPlan
        fields = ["id", "project", "customer", "branch", "name", "cadence", "starts_on", "ends_on", "anchor_day",
                  "anchor_month", "selection", "checklists", "devices", "engineers", "needs_approval", "horizon_days",
                  "is_active", "version"]


def staff_users():
    return User.objects.filter(customer__isnull=True, is_active=True)


class PlanFieldsIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    cadence = serializers.ChoiceField(choices=Cadence.choices)
    starts_on = PlausibleDateSerializerField()
    ends_on = PlausibleDateSerializerField(required=False, allow_null=True, default=None)
    anchor_day = serializers.IntegerField(min_value=1, max_value=31, required=False, allow_null=True, default=None,
                                          help_text="Day of the month the rounds are due (default: the start's day); "
                                                    "in shorter months their last day.")
    anchor_month = serializers.IntegerField(min_value=0, max_value=2, required=False, allow_null=True, default=None,
                                            help_text="Quarterly: 0, 1 or 2, the month of each quarter (default: the "
                                                      "start's).")
    selection = serializers.ChoiceField(choices=DeviceSelection.choices, required=False,
                                        default=DeviceSelection.CATEGORIES)
    checklists = serializers.PrimaryKeyRelatedField(queryset=ChecklistTemplate.objects.all(), many=True,
                                                    allow_empty=False)
    engineers = ScopedPrimaryKeyField(queryset=staff_users(), many=True, allow_empty=False)
    devices = ScopedPrimaryKeyField(queryset=Device.objects.all(), many=True, required=False, default=list)
    needs_approval = serializers.BooleanField(required=False, default=False)
    horizon_days = serializers.IntegerField(min_value=7, max_value=400, required=False, default=90)


class PlanIn(PlanFieldsIn):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())


class PlanUpdateIn(PlanFieldsIn):
    version = serializers.IntegerField(**VERSION)
    is_active = serializers.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # PATCH: only what is sent changes
            if name != "version":
                field.required = False
                field.default = serializers.empty


class PlanViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  viewsets.GenericViewSet):
    """INS-1: a project's plans. Creating one generates its rounds for the horizon; a PATCH regenerates only the
    future rounds not started yet."""

    queryset = InspectionPlan.objects.all()  # always narrowed by get_queryset()
    serializer_class = PlanOut
    filterset_class = PlanFilter
    permission_classes = [VerbPermissions]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.plans_for(self.request.user).prefetch_related("checklists", "devices", "engineers").order_by("-pk")

    @extend_schema(request=PlanIn, responses={201: PlanOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        require_perm(request, "inspections.manage_plans")
        data = PlanIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        plan = services.create_plan(by=request.user, **data.validated_data)
        return Response(PlanOut(self.get_queryset().get(pk=plan.pk)).data, status=201)

    @extend_schema(request=PlanUpdateIn, responses={200: PlanOut, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        require_perm(request, "inspections.manage_plans")
        plan = self.get_object()
        data = PlanUpdateIn(data=request.data, context={"user": request.user}, partial=True)
        data.is_valid(raise_exception=True)
        values = {key: value for key, value in data.validated_data.items()
                  if value is not None or key == "ends_on"}  # null: unchanged, except an end date
        relations = {name: values.pop(name) for name in ("checklists", "engineers", "devices") if name in values}
        plan = services.update_plan(plan=plan, by=request.user, **relations, **values)
        return Response(PlanOut(self.get_queryset().get(pk=plan.pk)).data)


# ------------------------------------------------------------------------------------------------ rounds

class RoundEventOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.display_name", default=None)

    class Meta:
        model = RoundEvent
        fields = ["id", "kind", "from_state", "to_state", "at", "actor", "note", "data"]


class AnswerOut(serializers.ModelSerializer):
    device = serializers.IntegerField(source="device_check.device_id", read_only=True)
    photo_url = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["id", "client_id", "round", "device", "item", "passed", "reading", "text", "note", "finding",
                  "answered_at", "received_at", "latitude", "longitude", "accuracy_m", "is_current", "photo_url"]

    def get_photo_url(self, answer) -> str | None:
        from django.urls import reverse

        return reverse("inspections:answer_photo", args=[answer.pk]) if answer.photo else None


class RoundListOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True)
    engineer_name = serializers.CharField(source="engineer.display_name", default=None, read_only=True)

    class Meta:
        model = InspectionRound
        fields = ["id", "number", "plan", "plan_name", "project", "customer", "branch", "period_start", "window_end",
                  "due_on", "state", "engineer", "engineer_name", "needs_approval", "approved_at", "overridden_at",
                  "override_reason", "started_at", "started_received_at", "completed_at", "completed_received_at",
                  "missed_at", "missed_reason", "version"]


class RoundOut(RoundListOut):
    possible = serializers.SerializerMethodField()
    devices = serializers.SerializerMethodField()
    events = RoundEventOut(many=True, read_only=True)

    class Meta(RoundListOut.Meta):
        fields = [*RoundListOut.Meta.fields, "summary", "possible", "devices", "events"]

    def get_possible(self, round_) -> list[str]:
        return [t.name for t in transitions.possible_now(round_.state)]

    def get_devices(self, round_) -> list[dict]:
        return [{
            "device": row["check"].device_id, "name": row["check"].device.name,
            "serial_number": row["check"].device.serial_number, "location": row["check"].device.location,
            "checklist": row["check"].checklist.template_id, "checklist_version": row["check"].checklist.number,
            "checked_at": serializers.DateTimeField().to_representation(row["check"].checked_at)
            if row["check"].checked_at else None,
            "received_at": serializers.DateTimeField().to_representation(row["check"].received_at)
            if row["check"].received_at else None,
            "latitude": row["check"].latitude, "longitude": row["check"].longitude,
            "accuracy_m": row["check"].accuracy_m, "skipped_reason": row["check"].skipped_reason,
            "items": [{**ChecklistItemOut(item).data,
                       "answer": AnswerOut(answer).data if answer else None} for item, answer in row["items"]],
        } for row in selectors.sheet(round_)]


class VersionIn(serializers.Serializer):
    version = serializers.IntegerField(**VERSION)


class StartIn(VersionIn):
    started_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                           help_text="The phone's time (default: the server's).")


class CompleteIn(VersionIn):
    completed_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                             help_text="The phone's time of completion (default: the server's).")
    summary = serializers.CharField(**TEXT)


class RoundReasonIn(VersionIn):
    reason = serializers.CharField(max_length=4000)


class ReassignIn(VersionIn):
    engineer = ScopedPrimaryKeyField(queryset=staff_users())


class SkipDeviceIn(serializers.Serializer):
    device = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = serializers.CharField(max_length=4000)


class RoundAnswerIn(serializers.Serializer):
    client_id = serializers.UUIDField(help_text="Generated by the phone; the same id sent again is the same answer.")
    device = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    item = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    answered_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                            help_text="The phone's time (default: the server's).")
    passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    reading = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True, default=None)
    text = serializers.CharField(**TEXT)
    note = serializers.CharField(**TEXT)
    photo = serializers.FileField(required=False, allow_null=True, default=None, allow_empty_file=False)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)
    accuracy_m = serializers.FloatField(min_value=0, max_value=100_000, required=False, allow_null=True, default=None)

    def validate(self, data):
        for field in ("latitude", "longitude"):
            if data.get(field) is not None:
                data[field] = Decimal(f"{data[field]:.6f}")
        if data.get("accuracy_m") is not None:
            data["accuracy_m"] = round(data["accuracy_m"])
        return data


def move_route(name: str, serializer, verb, permission: str):
    def route(self, request, pk=None):
        round_ = self.get_round()
        data = serializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        verb(round=round_, by=request.user, **data.validated_data)
        return Response(self.round_out(round_.pk))

    route.__name__ = route.__qualname__ = name
    route.__doc__ = f"`{name}` (the round's `version`)."
    route = requires(permission)(route)
    route = action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=name.replace("_", "-"))(route)
    return extend_schema(request=serializer, responses={200: RoundOut, **ERRORS})(route)


class RoundViewSet(ReportActions, AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """INS-1/INS-3: rounds, scoped (customers read their own projects', engineers their assigned ones, the desk and
    managers their branch's); filters: project, state, month (YYYY-MM), engineer, plan."""

    queryset = InspectionRound.objects.all()  # always narrowed by get_queryset()
    serializer_class = RoundListOut
    filterset_class = RoundFilter
    permission_classes = [VerbPermissions]
    ordering_fields = ["due_on", "id"]

    def get_queryset(self):
        return selectors.round_list(self.request.user).order_by("due_on", "pk")

    def get_round(self) -> InspectionRound:
        try:
            return selectors.rounds_for(self.request.user).get(pk=self.kwargs["pk"])
        except (InspectionRound.DoesNotExist, ValueError):
            raise Http404 from None

    def round_out(self, pk) -> dict:
        try:
            round_ = selectors.round_page(self.request.user, pk)
        except InspectionRound.DoesNotExist:
            raise Http404 from None
        return RoundOut(round_, context=self.get_serializer_context()).data

    @extend_schema(responses={200: RoundOut, 404: ErrorOut})
    def retrieve(self, request, *args, **kwargs):
        return Response(self.round_out(self.kwargs["pk"]))

    start = move_route("start", StartIn, services.start_round, "inspections.do_rounds")
    complete = move_route("complete", CompleteIn, services.complete_round, "inspections.do_rounds")
    override_approval = move_route("override_approval", RoundReasonIn, services.override_approval,
                                   "inspections.oversee_rounds")
    explain_missed = move_route("explain_missed", RoundReasonIn, services.explain_missed, "inspections.oversee_rounds")
    reassign = move_route("reassign", ReassignIn, services.reassign_round, "inspections.oversee_rounds")

    @extend_schema(request=SkipDeviceIn, responses={200: RoundOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="skip-device", url_name="skip-device")
    @requires("inspections.do_rounds")
    def skip_device(self, request, pk=None):
        """A device that could not be checked, with the reason."""
        round_ = self.get_round()
        data = SkipDeviceIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.skip_device(round=round_, by=request.user, device=data.validated_data["device"],
                             reason=data.validated_data["reason"])
        return Response(self.round_out(round_.pk))

    @extend_schema(request={"multipart/form-data": RoundAnswerIn, "application/json": RoundAnswerIn},
                   responses={201: AnswerOut, 200: AnswerOut, **ERRORS})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser, FormParser])
    @requires("inspections.do_rounds")
    def answers(self, request, pk=None):
        """One answer to one item of one device (multipart when it carries a photo). 201: stored now; 200: this
        `client_id` was stored before, and that answer is returned unchanged."""
        round_ = self.get_round()
        data = RoundAnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        answer, created = services.record_answer(round=round_, by=request.user, **data.validated_data)
        return Response(AnswerOut(answer).data, status=201 if created else 200)


# ------------------------------------------------------------------------------------------------ completion

class CompletionQueryIn(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    month = serializers.IntegerField(min_value=1, max_value=12, required=False, allow_null=True, default=None)
    project = ScopedPrimaryKeyField(queryset=Project.objects.all(), required=False, allow_null=True, default=None)


class NamedRoundOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    plan = serializers.CharField(source="plan.name")
    due_on = serializers.DateField()
    engineer = serializers.CharField(source="engineer.display_name", default=None)
    missed_reason = serializers.CharField()
    override_reason = serializers.CharField()


class CompletionOut(serializers.Serializer):
    project = serializers.IntegerField(source="project_id")
    project_name = serializers.CharField(source="project__name")
    customer_name = serializers.CharField(source="customer__name")
    month = serializers.DateField()
    due = serializers.IntegerField(help_text="Rounds due in the month.")
    done = serializers.IntegerField()
    missed = serializers.IntegerField()
    open = serializers.IntegerField(help_text="Not done yet, window not over.")
    overridden = serializers.IntegerField(help_text="Started without the customer's approval.")
    rate = serializers.IntegerField(allow_null=True, help_text="done ÷ due, in per cent.")
    missed_rounds = NamedRoundOut(many=True)
    overridden_rounds = NamedRoundOut(many=True)


class CompletionViewSet(AuditActorMixin, viewsets.GenericViewSet):
    """Completion per project and month: done ÷ due, the missed and the overridden rounds named."""

    queryset = InspectionRound.objects.all()  # the permission: view_inspectionround; scoped in the selector
    serializer_class = CompletionOut
    permission_classes = [VerbPermissions]
    pagination_class = None
    filter_backends = []

    @extend_schema(parameters=[OpenApiParameter("year", OpenApiTypes.INT), OpenApiParameter("month", OpenApiTypes.INT),
                               OpenApiParameter("project", OpenApiTypes.INT)],
                   responses={200: CompletionOut(many=True), 400: ErrorOut})
    def list(self, request):
        query = CompletionQueryIn(data=request.query_params, context={"user": request.user})
        query.is_valid(raise_exception=True)
        values = query.validated_data
        rows = selectors.completion(request.user, year=values.get("year") or clock.today().year,
                                    month=values["month"], project=values["project"])
        return Response(CompletionOut(rows, many=True).data)


def register(router) -> None:
    router.register("checklists", ChecklistViewSet, basename="checklist")
    router.register("inspection-plans", PlanViewSet, basename="inspectionplan")
    router.register("inspection-rounds", RoundViewSet, basename="inspectionround")
    router.register("inspection-completion", CompletionViewSet, basename="inspectioncompletion")
    from .approval_api import register as register_approvals  # INS-2: /api/inspection-approvals/

    register_approvals(router)
