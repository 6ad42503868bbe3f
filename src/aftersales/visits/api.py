"""Return visits, their schedules and follow-ups, and the system operation surveys over the API (VIS-1, VIS-2).
Lists and objects are scoped (another customer's visit is a 404); each verb is a POST with its own permission and
input; a stale `version` or an illegal step is a 409 with nothing written. Customers read their own and answer their
own survey."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core import clock
from aftersales.core.api_base import ErrorOut, ScopedPrimaryKeyField, ScopedViewSetMixin, requires
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.plausible import PlausibleDateSerializerField, PlausibleDateTimeSerializerField
from aftersales.core.scoping import is_staff_member
from aftersales.customers.models import Project
from aftersales.service.models import ServiceRequest

from . import selectors, services
from .filters import FollowUpFilter, ScheduleFilter, SurveyFilter, VisitFilter
from .models import (
    ANSWER_FIELDS,
    SURVEY_FIELDS,
    AnsweredVia,
    Cadence,
    FollowUp,
    ReturnVisit,
    Satisfaction,
    Survey,
    VisitMethod,
    VisitSchedule,
)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
TEXT = {"required": False, "allow_blank": True, "default": "", "max_length": services.TEXT_MAX}
VERSION_HELP = "The version you saw; a stale one is a 409 (`stale`)."


def version_field():
    return serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text=VERSION_HELP)


class StaffField(ScopedPrimaryKeyField):
    """A staff member the caller may see (their branch, or every branch)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=get_user_model().objects.filter(is_active=True, customer__isnull=True), **kwargs)


# ------------------------------------------------------------------------------------------------ answers

class FollowUpOut(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = ["id", "visit", "survey", "project", "customer", "branch", "description", "owner", "owner_name",
                  "due_on", "state", "overdue", "done_at", "done_by", "resolution", "version", "created_at"]
        read_only_fields = fields

    def get_overdue(self, follow_up) -> bool:
        return follow_up.is_overdue(clock.today())


class VisitListOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", default=None, read_only=True)
    overdue = serializers.SerializerMethodField(help_text="Due before today and not done.")

    class Meta:
        model = ReturnVisit
        fields = ["id", "number", "kind", "project", "project_name", "customer", "branch", "schedule", "period_start",
                  "service_request", "due_on", "owner", "owner_name", "method", "state", "overdue", "visited_at",
                  "version"]
        read_only_fields = fields

    def get_overdue(self, visit) -> bool:
        return visit.is_overdue(clock.today())


class VisitOut(VisitListOut):
    follow_ups = FollowUpOut(many=True, read_only=True)
    surveys = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(VisitListOut.Meta):
        fields = [*VisitListOut.Meta.fields, "purpose", "contact_person", "needs", "questions", "answers",
                  "cancel_reason", "done_by", "follow_ups", "surveys"]
        read_only_fields = fields


class ScheduleOut(serializers.ModelSerializer):
    class Meta:
        model = VisitSchedule
        fields = ["id", "project", "customer", "branch", "cadence", "day_of_month", "month_of_quarter", "method",
                  "owner", "starts_on", "ends_on", "after_requests", "days_after_request", "active", "generated_until",
                  "version", "created_at"]
        read_only_fields = fields


class SurveyOut(serializers.ModelSerializer):
    """The seed's ten fields (SURVEY_FIELDS) and how the survey travelled."""

    follow_up = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = ["id", "project", "customer", "period", "visit", "state", *SURVEY_FIELDS, "sent_to", "sent_at",
                  "link_expires_at", "answered_at", "answered_via", "follow_up", "version"]
        read_only_fields = fields

    def get_follow_up(self, survey) -> int | None:
        follow_ups = list(survey.follow_ups.all())
        return follow_ups[0].pk if follow_ups else None


# ------------------------------------------------------------------------------------------------ inputs

class ScheduleTermsIn(serializers.Serializer):
    cadence = serializers.ChoiceField(choices=Cadence.choices, required=False)
    day_of_month = serializers.IntegerField(min_value=1, max_value=31, required=False,
                                            help_text="31: the last day of every month.")
    month_of_quarter = serializers.IntegerField(min_value=1, max_value=3, required=False,
                                                help_text="Quarterly: which month of the quarter.")
    method = serializers.ChoiceField(choices=VisitMethod.choices, required=False)
    owner = StaffField(required=False, allow_null=True)
    ends_on = PlausibleDateSerializerField(required=False, allow_null=True)
    after_requests = serializers.BooleanField(required=False)
    days_after_request = serializers.IntegerField(min_value=0, max_value=90, required=False)


class ScheduleIn(ScheduleTermsIn):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    starts_on = PlausibleDateSerializerField(required=False, help_text="Default: today.")


class ScheduleChangeIn(ScheduleTermsIn):
    version = version_field()
    active = serializers.BooleanField(required=False, help_text="false pauses the schedule.")


class PlanVisitIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    due_on = PlausibleDateSerializerField()
    owner = StaffField(required=False, allow_null=True, default=None)
    method = serializers.ChoiceField(choices=VisitMethod.choices, default=VisitMethod.PHONE)
    purpose = serializers.CharField(**TEXT)
    service_request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all(), required=False, allow_null=True,
                                            default=None, help_text="A visit after this (closed) request: once.")


class ReplanVisitIn(serializers.Serializer):
    version = version_field()
    due_on = PlausibleDateSerializerField()
    owner = StaffField(required=False, allow_null=True, default=None)
    method = serializers.ChoiceField(choices=VisitMethod.choices, required=False)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=services.TEXT_MAX)


class FollowUpLineIn(serializers.Serializer):
    description = serializers.CharField(max_length=services.TEXT_MAX)
    owner = StaffField()
    due_on = PlausibleDateSerializerField()


class RecordVisitIn(serializers.Serializer):
    version = version_field()
    method = serializers.ChoiceField(choices=VisitMethod.choices, required=False)
    visited_at = PlausibleDateTimeSerializerField(required=False, allow_null=True, default=None,
                                                  help_text="Default: now; never in the future.")
    contact_person = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    needs = serializers.CharField(**TEXT)
    questions = serializers.CharField(**TEXT)
    answers = serializers.CharField(**TEXT)
    follow_ups = FollowUpLineIn(many=True, required=False, default=list, max_length=10)

    def validate_follow_ups(self, lines):
        return [services.FollowUpLine(**line) for line in lines]


class CancelVisitIn(serializers.Serializer):
    version = version_field()
    reason = serializers.CharField(max_length=services.TEXT_MAX)


class CompleteFollowUpIn(serializers.Serializer):
    version = version_field()
    resolution = serializers.CharField(max_length=services.TEXT_MAX)


class CreateSurveyIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    period = PlausibleDateSerializerField(required=False, help_text="Any day of the month; default: this month.")
    visit = ScopedPrimaryKeyField(queryset=ReturnVisit.objects.all(), required=False, allow_null=True, default=None)
    send = serializers.BooleanField(default=True, help_text="true: mail the no-account link to the customer's "
                                                            "contact; false: staff fill it in (during a visit).")
    recipient = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(customer__isnull=False), required=False, allow_null=True,
        default=None, help_text="A contact of the project's customer with an e-mail address; default: the first one.")


class SurveyAnswerIn(serializers.Serializer):
    """Exactly the seed's fields a person fills in (ANSWER_FIELDS), and the version read."""

    version = version_field()
    surveyed_at = PlausibleDateTimeSerializerField(required=False, allow_null=True, default=None,
                                                   help_text="Staff only (a visit made earlier); default: now.")
    equipment_usage = serializers.CharField(**TEXT)
    system_operation = serializers.CharField(**TEXT)
    system_stability = serializers.CharField(**TEXT)
    abnormal = serializers.BooleanField(help_text="是否有异常: true (是) or false (否).")
    abnormal_description = serializers.CharField(**TEXT)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, help_text="服务响应满意度, 1 to 5.")
    remarks = serializers.CharField(**TEXT)


assert set(SurveyAnswerIn().fields) == {"version", *ANSWER_FIELDS}, "the API answers exactly the seed's fields"


class ResendIn(serializers.Serializer):
    version = version_field()


class SurveyResultOut(serializers.Serializer):
    """One project's month: surveys made and answered, and what the answered said."""

    project_id = serializers.IntegerField()
    project__name = serializers.CharField()
    project__contract_number = serializers.CharField()
    period = serializers.DateField(help_text="The month's first day.")
    sent = serializers.IntegerField(help_text="Surveys made (mailed or to be filled in).")
    answered = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True, help_text="Average satisfaction of the answered, 1 to 5.")
    low = serializers.IntegerField(help_text="Answered with a satisfaction of 2 or lower.")
    abnormal = serializers.IntegerField(help_text="Answered with an abnormality.")


# ------------------------------------------------------------------------------------------------ viewsets

class VerbViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [VerbPermissions]

    def run(self, verb, serializer, out, *, status=200, **extra):
        data = serializer(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        result = verb(by=self.request.user, **extra, **data.validated_data)
        return Response(out(self.base_queryset().get(pk=result.pk), context=self.get_serializer_context()).data,
                        status=status)


class VisitViewSet(VerbViewSet):
    """VIS-1: return visits (回访). `overdue`: due before today and not done (filter `state=overdue`)."""

    queryset = ReturnVisit.objects.all()  # always narrowed by get_queryset()
    filterset_class = VisitFilter
    ordering_fields = ["due_on", "visited_at", "id"]

    def base_queryset(self):
        visits = ReturnVisit.objects.select_related("project", "owner").order_by("-due_on", "-pk")
        return visits if self.action == "list" else visits.prefetch_related("follow_ups__owner", "surveys")

    def get_serializer_class(self):
        return VisitOut if self.action != "list" else VisitListOut

    @extend_schema(request=PlanVisitIn, responses={201: VisitOut, **ERRORS})
    @requires("visits.plan_visit")
    def create(self, request):
        """Plan an unscheduled visit, or one after a closed service request (`service_request`, once)."""
        return self.run(services.plan_visit, PlanVisitIn, VisitOut, status=201)

    @extend_schema(request=ReplanVisitIn, responses={200: VisitOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("visits.plan_visit")
    def replan(self, request, pk=None):
        """Move a planned visit, or give it to someone else."""
        return self.run(services.replan_visit, ReplanVisitIn, VisitOut, visit=self.get_object())

    @extend_schema(request=RecordVisitIn, responses={200: VisitOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("visits.record_visit")
    def record(self, request, pk=None):
        """The visit was made: needs, questions, answers and its follow-up actions (owner and due date each)."""
        return self.run(services.record_visit, RecordVisitIn, VisitOut, visit=self.get_object())

    @extend_schema(request=CancelVisitIn, responses={200: VisitOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("visits.plan_visit")
    def cancel(self, request, pk=None):
        return self.run(services.cancel_visit, CancelVisitIn, VisitOut, visit=self.get_object())

    @extend_schema(request=FollowUpLineIn, responses={201: FollowUpOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="follow-ups", url_name="follow-ups")
    @requires("visits.work_follow_up")
    def follow_ups(self, request, pk=None):
        """One more follow-up action of the visit."""
        visit = self.get_object()
        data = FollowUpLineIn(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        follow_up = services.add_follow_up(visit=visit, by=request.user, **data.validated_data)
        return Response(FollowUpOut(follow_up).data, status=201)


class ScheduleViewSet(VerbViewSet):
    """VIS-1: each project's visit schedule: monthly or quarterly, and after closed service requests. Staff only."""

    queryset = VisitSchedule.objects.all()
    serializer_class = ScheduleOut
    filterset_class = ScheduleFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def base_queryset(self):
        return VisitSchedule.objects.select_related("project").order_by("-pk")

    @extend_schema(request=ScheduleIn, responses={201: ScheduleOut, **ERRORS})
    @requires("visits.plan_visit")
    def create(self, request):
        """A project's schedule (one active per project); the current period's visit is made at once."""
        return self.run(services.create_schedule, ScheduleIn, ScheduleOut, status=201)

    @extend_schema(request=ScheduleChangeIn, responses={200: ScheduleOut, **ERRORS})
    @requires("visits.plan_visit")
    def partial_update(self, request, pk=None):
        return self.run(services.update_schedule, ScheduleChangeIn, ScheduleOut, schedule=self.get_object())


class FollowUpViewSet(VerbViewSet):
    """Follow-up actions of visits and surveys, each with an owner and a due date, tracked to done."""

    queryset = FollowUp.objects.all()
    serializer_class = FollowUpOut
    filterset_class = FollowUpFilter
    ordering_fields = ["due_on", "done_at", "id"]

    def base_queryset(self):
        return FollowUp.objects.select_related("owner").order_by("due_on", "pk")

    @extend_schema(request=CompleteFollowUpIn, responses={200: FollowUpOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("visits.work_follow_up")
    def complete(self, request, pk=None):
        return self.run(services.complete_follow_up, CompleteFollowUpIn, FollowUpOut, follow_up=self.get_object())


class SurveyViewSet(VerbViewSet):
    """VIS-2: system operation surveys (售后系统运行调查表), one per project and month. Customers read theirs and
    answer them (`answer`)."""

    queryset = Survey.objects.all()
    serializer_class = SurveyOut
    filterset_class = SurveyFilter
    ordering_fields = ["period", "answered_at", "id"]

    def base_queryset(self):
        return Survey.objects.prefetch_related("follow_ups").order_by("-period", "-pk")

    @extend_schema(request=CreateSurveyIn, responses={201: SurveyOut, **ERRORS})
    @requires("visits.send_survey")
    def create(self, request):
        """The month's survey of a project (a second one is a 409 `conflict`): its no-account link mailed to the
        customer's contact (`send`), or left for staff to fill in."""
        return self.run(services.create_survey, CreateSurveyIn, SurveyOut, status=201)

    @extend_schema(request=ResendIn, responses={200: SurveyOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("visits.send_survey")
    def resend(self, request, pk=None):
        """A new link, valid from now; the previous one answers 410."""
        return self.run(services.resend_survey_link, ResendIn, SurveyOut, survey=self.get_object())

    @extend_schema(request=SurveyAnswerIn, responses={200: SurveyOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("visits.answer_survey")
    def answer(self, request, pk=None):
        """The answers, once: staff during a visit (`surveyed_at` may be earlier), a customer's contact in the
        portal (now). A satisfaction of 2 or lower, or an abnormality, opens one follow-up."""
        survey = self.get_object()
        staff = is_staff_member(request.user)
        data = SurveyAnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        answers = dict(data.validated_data)
        version = answers.pop("version")
        services.answer_survey(survey=survey, by=request.user, version=version,
                               via=AnsweredVia.STAFF if staff else AnsweredVia.PORTAL, **answers)
        return Response(SurveyOut(self.base_queryset().get(pk=survey.pk)).data)

    @extend_schema(responses={200: SurveyResultOut(many=True)}, filters=True)
    @action(detail=False, methods=["get"])
    def results(self, request):
        """Per project and month (the survey's month): surveys made, answered, average satisfaction, how many low
        and how many abnormal — aggregated by the database. Filter as the list."""
        queryset = SurveyFilter(request.query_params, queryset=self.get_queryset(), request=request)
        if not queryset.is_valid():
            raise serializers.ValidationError(queryset.errors)
        rows = selectors.survey_results(queryset.qs)
        page = self.paginate_queryset(rows)
        for row in page:
            row["average"] = round(float(row["average"]), 2) if row["average"] is not None else None
        return self.get_paginated_response(SurveyResultOut(page, many=True).data)


def register(router) -> None:
    router.register("visits", VisitViewSet, basename="returnvisit")
    router.register("visit-schedules", ScheduleViewSet, basename="visitschedule")
    router.register("visit-follow-ups", FollowUpViewSet, basename="followup")
    router.register("surveys", SurveyViewSet, basename="survey")
