"""Trainings and handover checklists over the API (TRN-1, TRN-2, issue 23 §9): scoped lists and details with filters,
one POST per verb. A stale `version` or a step the state does not allow is a 409 with nothing written; another
customer's session is a 404; bad input a 400 with the field."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from aftersales.core.api_base import (
    AuditActorMixin,
    ErrorOut,
    ScopedPrimaryKeyField,
    require_perm,
    requires,
)
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.plausible import (
    PlausibleDateSerializerField,
    PlausibleDateTimeSerializerField,
)
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.customers.models import Project

from . import selectors, services
from .filters import HandoverItemFilter, HandoverProjectFilter, SessionFilter
from .models import (
    RATING_MAX,
    RATING_MIN,
    Attendee,
    HandoverItem,
    SessionKind,
    SignedVia,
    TrainingFeedback,
    TrainingMaterial,
    TrainingSession,
    Venue,
)
from .views import MANAGE, RECORD_HANDOVER, SIGN

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
TEXT = {"required": False, "allow_blank": True, "default": "", "max_length": 4000}
ID = {"min_value": 1, "max_value": 2**63 - 1}


# ------------------------------------------------------------------------------------------------ answers

class TrainingAttendeeOut(serializers.ModelSerializer):
    class Meta:
        model = Attendee
        fields = ["id", "name", "role", "phone", "attended"]


class TrainingMaterialOut(serializers.ModelSerializer):
    url = serializers.CharField(source="get_absolute_url", read_only=True, help_text="The scoped download page.")

    class Meta:
        model = TrainingMaterial
        fields = ["id", "original_name", "content_type", "size", "uploaded_at", "url"]


class TrainingFeedbackOut(serializers.ModelSerializer):
    class Meta:
        model = TrainingFeedback
        fields = ["evaluation", "opinions", "rating", "signer_name", "signed_via", "signed_at"]


class TrainingTrainerOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class TrainingSessionListOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    invited = serializers.IntegerField(read_only=True, help_text="Attendees listed.")
    present = serializers.IntegerField(read_only=True, help_text="Attendees recorded as present.")

    class Meta:
        model = TrainingSession
        fields = ["id", "number", "project", "customer", "branch", "title", "kind", "venue", "place", "starts_at",
                  "ends_at", "state", "held_at", "cancelled_at", "version", "invited", "present"]


class TrainingSessionOut(TrainingSessionListOut):
    trainers = TrainingTrainerOut(many=True, read_only=True)
    vendor_trainers = serializers.ListField(source="vendor_trainer_list", child=serializers.CharField(), read_only=True)
    attendees = TrainingAttendeeOut(many=True, read_only=True)
    materials = TrainingMaterialOut(many=True, read_only=True)
    feedback = serializers.SerializerMethodField()

    class Meta(TrainingSessionListOut.Meta):
        fields = [*TrainingSessionListOut.Meta.fields, "content", "summary", "cancel_reason", "trainers", "vendor_trainers",
                  "attendees", "materials", "feedback"]

    @extend_schema(responses=TrainingFeedbackOut(allow_null=True))
    def get_feedback(self, session) -> dict | None:
        feedback = selectors.feedback_of(session)
        return TrainingFeedbackOut(feedback).data if feedback is not None else None


class HandoverItemOut(serializers.ModelSerializer):
    done = serializers.BooleanField(read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.display_name", default=None, allow_null=True)

    class Meta:
        model = HandoverItem
        fields = ["id", "project", "position", "capability", "done", "demonstrated_by", "demonstrated_on", "session",
                  "note", "recorded_by", "recorded_at", "version"]


class HandoverProjectOut(serializers.ModelSerializer):
    items_total = serializers.IntegerField(read_only=True)
    items_done = serializers.IntegerField(read_only=True)
    sessions_signed = serializers.IntegerField(read_only=True)
    independent = serializers.SerializerMethodField(help_text="独立运行: a checklist, every item of it demonstrated.")

    class Meta:
        model = Project
        fields = ["id", "name", "contract_number", "customer", "items_total", "items_done", "sessions_signed",
                  "independent"]

    def get_independent(self, project) -> bool:
        return project.items_total > 0 and project.items_done == project.items_total


# ------------------------------------------------------------------------------------------------ inputs

class TrainingVersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The version you saw; a stale one is a 409.")


class TrainingAttendeeRowIn(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    role = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)

    def to_internal_value(self, data):
        return services.AttendeeIn(**super().to_internal_value(data))


class TrainingPlanFields(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=SessionKind.choices)
    venue = serializers.ChoiceField(choices=Venue.choices)
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    starts_at = PlausibleDateTimeSerializerField()
    ends_at = PlausibleDateTimeSerializerField()
    content = serializers.CharField(max_length=4000)
    trainers = ScopedPrimaryKeyField(many=True, required=False, default=list,
                                     queryset=get_user_model().objects.filter(customer__isnull=True, is_active=True),
                                     help_text="Our trainers: ids of staff users you may see.")
    vendor_trainers = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class PlanTrainingSessionIn(TrainingPlanFields):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    attendees = TrainingAttendeeRowIn(many=True, required=False, default=list, max_length=services.MAX_ATTENDEES)


class ChangeTrainingPlanIn(TrainingPlanFields, TrainingVersionIn):
    pass


class AddTrainingAttendeeIn(TrainingVersionIn):
    name = serializers.CharField(max_length=100)
    role = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)


class RemoveTrainingAttendeeIn(TrainingVersionIn):
    attendee = serializers.IntegerField(**ID)


class RecordTrainingHeldIn(TrainingVersionIn):
    present = serializers.ListField(child=serializers.IntegerField(**ID), required=False, default=list,
                                    max_length=services.MAX_ATTENDEES, help_text="Ids of the invited attendees present.")
    walk_ins = TrainingAttendeeRowIn(many=True, required=False, default=list, max_length=services.MAX_ATTENDEES)
    summary = serializers.CharField(**TEXT)


class TrainingReasonIn(TrainingVersionIn):
    reason = serializers.CharField(max_length=4000)


class TrainingMaterialIn(serializers.Serializer):
    file = serializers.FileField()


class TrainingFeedbackIn(TrainingVersionIn):
    evaluation = serializers.CharField(max_length=4000)
    opinions = serializers.CharField(**TEXT)
    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX)
    signer_name = serializers.CharField(max_length=100)
    signature = serializers.FileField(required=False, allow_null=True, default=None,
                                      help_text="Required: the signature drawn on screen, a PNG of at most 1 MB.")


class AddHandoverItemIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    capability = serializers.CharField(max_length=200)


class StandardHandoverChecklistIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())


class HandoverDemonstratedIn(TrainingVersionIn):
    demonstrated_by = serializers.CharField(max_length=100)
    demonstrated_on = PlausibleDateSerializerField(required=False, allow_null=True, default=None,
                                                   help_text="Default: today; never in the future.")
    session = ScopedPrimaryKeyField(queryset=TrainingSession.objects.all(), required=False, allow_null=True,
                                    default=None)
    note = serializers.CharField(**TEXT)


# ------------------------------------------------------------------------------------------------ sessions

class TrainingSessionViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                             mixins.CreateModelMixin, viewsets.GenericViewSet):
    """TRN-1: training sessions. Scoped: a customer's user reads their own projects'; another customer's is a 404."""

    queryset = TrainingSession.objects.all()  # always narrowed by get_queryset()
    filterset_class = SessionFilter
    permission_classes = [VerbPermissions]
    ordering_fields = ["starts_at", "id"]

    def get_queryset(self):
        return selectors.sessions(self.request.user).order_by("-starts_at", "-pk")

    def get_serializer_class(self):
        return TrainingSessionOut if self.action == "retrieve" else TrainingSessionListOut

    def retrieve(self, request, *args, **kwargs):
        return Response(self.session_out(self.kwargs["pk"]))

    def session_out(self, pk) -> dict:
        return TrainingSessionOut(selectors.session_page(self.request.user, pk), context=self.get_serializer_context()).data

    def session(self) -> TrainingSession:
        return get_visible_or_404(TrainingSession.objects.all(), self.request.user, pk=self.kwargs["pk"])

    def data(self, serializer) -> dict:
        data = serializer(data=self.request.data, context={"user": self.request.user})
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def run(self, verb, serializer):
        session = self.session()  # another customer's session is a 404 whatever the body says
        verb(session=session, by=self.request.user, **self.data(serializer))
        return Response(self.session_out(session.pk))

    @extend_schema(request=PlanTrainingSessionIn, responses={201: TrainingSessionOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Plan a session of a project, with its trainers and the customer's staff invited."""
        require_perm(request, MANAGE)
        session = services.plan_session(by=request.user, **self.data(PlanTrainingSessionIn))
        return Response(self.session_out(session.pk), status=201)

    @extend_schema(request=ChangeTrainingPlanIn, responses={200: TrainingSessionOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="change-plan", url_name="change-plan")
    @requires(MANAGE)
    def change_plan(self, request, pk=None):
        """Change the plan of a session not yet held."""
        return self.run(services.change_plan, ChangeTrainingPlanIn)

    @extend_schema(request=AddTrainingAttendeeIn, responses={200: TrainingSessionOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def attendees(self, request, pk=None):
        """Invite one more of the customer's staff (planned sessions)."""
        return self.run(services.add_attendee, AddTrainingAttendeeIn)

    @extend_schema(request=RemoveTrainingAttendeeIn, responses={200: TrainingSessionOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="remove-attendee", url_name="remove-attendee")
    @requires(MANAGE)
    def remove_attendee(self, request, pk=None):
        session = self.session()
        data = self.data(RemoveTrainingAttendeeIn)
        attendee = session.attendees.filter(pk=data["attendee"]).first()
        if attendee is None:
            raise serializers.ValidationError({"attendee": ["Not an attendee of this session."]})
        services.remove_attendee(attendee=attendee, by=request.user, version=data["version"])
        return Response(self.session_out(session.pk))

    @extend_schema(request=RecordTrainingHeldIn, responses={200: TrainingSessionOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def held(self, request, pk=None):
        """The session took place: attendance, walk-ins, what was covered. The customer's contacts are mailed the
        signed feedback link."""
        return self.run(services.record_held, RecordTrainingHeldIn)

    @extend_schema(request=TrainingReasonIn, responses={200: TrainingSessionOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def cancel(self, request, pk=None):
        return self.run(services.cancel_session, TrainingReasonIn)

    @extend_schema(request=TrainingVersionIn, responses={200: TrainingSessionOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="resend-link", url_name="resend-link")
    @requires(MANAGE)
    def resend_link(self, request, pk=None):
        """A new feedback link; earlier ones stop working."""
        return self.run(services.resend_feedback_link, TrainingVersionIn)

    @extend_schema(request={"multipart/form-data": TrainingMaterialIn}, responses={201: TrainingMaterialOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(MANAGE)
    def materials(self, request, pk=None):
        """Upload a material (multipart `file`): images, PDF, ZIP or text, at most 10 MB."""
        session = self.session()
        material = services.add_material(session=session, by=request.user, upload=self.data(TrainingMaterialIn)["file"])
        return Response(TrainingMaterialOut(material).data, status=201)

    @extend_schema(request={"multipart/form-data": TrainingFeedbackIn}, responses={200: TrainingSessionOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        """The customer's signed written feedback on a held session: a customer's user signs in the portal; our staff
        record a signature drawn on their screen by the customer's person (no login)."""
        session = self.session()
        user = request.user
        if user.customer_id and user.has_perm(SIGN):
            who = {"via": SignedVia.PORTAL, "by": user}
        elif not user.customer_id and user.has_perm(MANAGE):
            who = {"via": SignedVia.SCREEN, "on_screen_of": user}
        else:
            raise PermissionDenied
        services.sign_feedback(session=session, **who, **self.data(TrainingFeedbackIn))
        return Response(self.session_out(session.pk))


# ------------------------------------------------------------------------------------------------ handover

class HandoverItemViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, viewsets.GenericViewSet):
    """TRN-2: the items of the projects' handover checklists."""

    queryset = HandoverItem.objects.all()  # always narrowed by get_queryset()
    serializer_class = HandoverItemOut
    filterset_class = HandoverItemFilter
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        return visible(HandoverItem.objects.select_related("recorded_by"), self.request.user).order_by(
            "project_id", "position", "pk")

    def item_out(self, item) -> dict:
        return HandoverItemOut(self.get_queryset().get(pk=item.pk)).data

    @extend_schema(request=AddHandoverItemIn, responses={201: HandoverItemOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        require_perm(request, RECORD_HANDOVER)
        data = AddHandoverItemIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        item = services.add_checklist_item(by=request.user, **data.validated_data)
        return Response(self.item_out(item), status=201)

    @extend_schema(request=StandardHandoverChecklistIn, responses={201: HandoverItemOut(many=True), **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(RECORD_HANDOVER)
    def standard(self, request):
        """Add the standard capabilities the project's checklist lacks."""
        data = StandardHandoverChecklistIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        added = services.start_checklist(by=request.user, **data.validated_data)
        return Response([self.item_out(item) for item in added], status=201)

    @extend_schema(request=HandoverDemonstratedIn, responses={200: HandoverItemOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(RECORD_HANDOVER)
    def demonstrated(self, request, pk=None):
        """The customer's staff member did it alone: who, when, in which session."""
        item = self.get_object()
        data = HandoverDemonstratedIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        item = services.mark_demonstrated(item=item, by=request.user, **data.validated_data)
        return Response(self.item_out(item))

    @extend_schema(request=TrainingReasonIn, responses={200: HandoverItemOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(RECORD_HANDOVER)
    def reopen(self, request, pk=None):
        item = self.get_object()
        data = TrainingReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.reopen_item(item=item, by=request.user, **data.validated_data)
        return Response(self.item_out(item))


class HandoverProjectViewSet(AuditActorMixin, viewsets.ReadOnlyModelViewSet):
    """TRN-2: each project's handover as numbers; `independent` (独立运行) when every item is demonstrated."""

    queryset = Project.objects.all()  # always narrowed by get_queryset()
    serializer_class = HandoverProjectOut
    filterset_class = HandoverProjectFilter
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        return selectors.handover_projects(self.request.user).order_by("name", "pk")


def register(router) -> None:
    router.register("training-sessions", TrainingSessionViewSet, basename="trainingsession")
    router.register("handover-items", HandoverItemViewSet, basename="handoveritem")
    router.register("handover-projects", HandoverProjectViewSet, basename="handoverproject")
