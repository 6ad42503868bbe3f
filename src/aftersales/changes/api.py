"""Change notices over the API (LOG-3, issue 25 §4): a customer's system announces a planned change and reads our
answer; staff list, read, record compatibility tests and answer. Scoped: another customer's notice is a 404. A stale
`version` or a step the state does not allow is a 409 with nothing written; bad input a 400 naming the field."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
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
from aftersales.core.plausible import PlausibleDateTimeSerializerField
from aftersales.core.scoping import get_visible_or_404
from aftersales.customers.models import Project

from . import selectors, services
from .filters import NoticeFilter
from .models import (
    ChangeKind,
    ChangeNotice,
    CompatibilityTest,
    NoticeChannel,
    TestResult,
    Verdict,
)
from .views import HANDLE, SUBMIT

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
TEXT = {"required": False, "allow_blank": True, "default": "", "max_length": 8000}


# ------------------------------------------------------------------------------------------------ answers

class CompatibilityTestOut(serializers.ModelSerializer):
    tested_by = serializers.CharField(source="tested_by.display_name", read_only=True)
    evidence_url = serializers.CharField(read_only=True, help_text="The scoped download page of the evidence file.")

    class Meta:
        model = CompatibilityTest
        fields = ["id", "notice", "subject", "environment", "result", "evidence", "evidence_name", "evidence_type",
                  "evidence_size", "evidence_url", "tested_by", "tested_at"]


class ChangeNoticeListOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)

    class Meta:
        model = ChangeNotice
        fields = ["id", "number", "project", "customer", "branch", "kind", "title", "window_starts_at",
                  "window_ends_at", "state", "channel", "submitted_at", "answer_due_at", "verdict", "answered_at",
                  "withdrawn_at", "closed_at", "version"]


class ChangeNoticeOut(ChangeNoticeListOut):
    devices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    tests = serializers.SerializerMethodField()

    class Meta(ChangeNoticeListOut.Meta):
        fields = [*ChangeNoticeListOut.Meta.fields, "description", "devices", "answer", "withdraw_reason", "tests"]

    @extend_schema(responses=CompatibilityTestOut(many=True))
    def get_tests(self, notice) -> list[dict]:
        return CompatibilityTestOut(selectors.tests_of(notice), many=True).data


# ------------------------------------------------------------------------------------------------ inputs

class SubmitChangeNoticeIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=8000)
    window_starts_at = PlausibleDateTimeSerializerField()
    window_ends_at = PlausibleDateTimeSerializerField()
    devices = ScopedPrimaryKeyField(many=True, required=False, default=list, queryset=Device.objects.all(),
                                    help_text="Ids of the project's devices the change touches.")


class ChangeVersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The version you saw; a stale one is a 409.")


class RecordCompatibilityTestIn(ChangeVersionIn):
    subject = serializers.CharField(max_length=300)
    environment = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    result = serializers.ChoiceField(choices=TestResult.choices)
    evidence = serializers.CharField(**TEXT)
    evidence_file = serializers.FileField(required=False, allow_null=True, default=None,
                                          help_text="An image, a PDF or a text file, at most 10 MB.")


class AnswerChangeNoticeIn(ChangeVersionIn):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    answer = serializers.CharField(max_length=8000)


class WithdrawChangeNoticeIn(ChangeVersionIn):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


# ------------------------------------------------------------------------------------------------ notices

class ChangeNoticeViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, viewsets.GenericViewSet):
    """LOG-3: change notices. A customer's user creates and reads their own; staff read their branch's."""

    queryset = ChangeNotice.objects.all()  # always narrowed by get_queryset()
    filterset_class = NoticeFilter
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        return selectors.visible_notices(self.request.user).order_by("answer_due_at", "pk")

    def get_serializer_class(self):
        return ChangeNoticeOut if self.action == "retrieve" else ChangeNoticeListOut

    def retrieve(self, request, *args, **kwargs):
        return Response(self.notice_out(self.kwargs["pk"]))

    def notice_out(self, pk) -> dict:
        notice = selectors.notice_page(self.request.user, pk)
        return ChangeNoticeOut(notice, context=self.get_serializer_context()).data

    def notice(self) -> ChangeNotice:
        return get_visible_or_404(ChangeNotice.objects.all(), self.request.user, pk=self.kwargs["pk"])

    def data(self, serializer) -> dict:
        data = serializer(data=self.request.data, context={"user": self.request.user})
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @extend_schema(request=SubmitChangeNoticeIn, responses={201: ChangeNoticeOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Announce a planned change and its window (a customer's window must start in the future). The answer's
        deadline is fixed now: a day before the window, never sooner than 2 hours from now."""
        require_perm(request, SUBMIT)
        channel = NoticeChannel.API if request.user.customer_id else NoticeChannel.STAFF
        notice = services.submit_notice(by=request.user, channel=channel, **self.data(SubmitChangeNoticeIn))
        return Response(self.notice_out(notice.pk), status=201)

    @extend_schema(methods=["get"], responses={200: CompatibilityTestOut(many=True), **ERRORS})
    @extend_schema(methods=["post"], request={"multipart/form-data": RecordCompatibilityTestIn},
                   responses={201: CompatibilityTestOut, **ERRORS})
    @action(detail=True, methods=["get", "post"])
    def tests(self, request, pk=None):
        """GET: the notice's compatibility tests. POST (staff): record one (multipart with `evidence_file`, or
        JSON); the first puts the notice under test."""
        notice = self.notice()
        if request.method == "GET":
            return Response(CompatibilityTestOut(selectors.tests_of(notice), many=True).data)
        require_perm(request, HANDLE)
        test = services.record_test(notice=notice, by=request.user, **self.data(RecordCompatibilityTestIn))
        return Response(CompatibilityTestOut(test).data, status=201)

    @extend_schema(request=AnswerChangeNoticeIn, responses={200: ChangeNoticeOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(HANDLE)
    def answer(self, request, pk=None):
        """Our answer (after at least one test); the customer's submitter is told."""
        notice = self.notice()
        services.answer_notice(notice=notice, by=request.user, **self.data(AnswerChangeNoticeIn))
        return Response(self.notice_out(notice.pk))

    @extend_schema(request=WithdrawChangeNoticeIn, responses={200: ChangeNoticeOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(SUBMIT)
    def withdraw(self, request, pk=None):
        """The customer calls the change off, until its window has ended."""
        notice = self.notice()
        services.withdraw_notice(notice=notice, by=request.user, **self.data(WithdrawChangeNoticeIn))
        return Response(self.notice_out(notice.pk))


def register(router) -> None:
    router.register("change-notices", ChangeNoticeViewSet, basename="changenotice")
