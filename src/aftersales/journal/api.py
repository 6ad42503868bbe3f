"""Daily logs over the API (LOG-1, issue 25 §2). `/api/daily-logs/`: staff read their own days (and, with the team
permission, their scope's); POST starts a day, `submit` submits it. `/api/log-entries/`: scoped reads (a customer's
user gets only their customer's entries marked visible to them, read-only); POST adds an entry to one's own day,
`edit` and `remove` change it. A stale `version` is a 409 with nothing written; a foreign id is a 404 or a 400."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.core.api_base import (
    AuditActorMixin,
    ErrorOut,
    ScopedPrimaryKeyField,
    require_perm,
    requires,
)
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.plausible import PlausibleDateSerializerField
from aftersales.customers.models import Project
from aftersales.inspections.models import InspectionRound
from aftersales.service.models import ServiceRequest

from . import selectors, services
from .models import MINUTES_PER_DAY, DailyLog, LogEntry

WRITE = "journal.add_dailylog"
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class LogEntryOut(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="project.customer_id", read_only=True)
    author_name = serializers.CharField(source="author.display_name", read_only=True)
    requests = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    rounds = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = LogEntry
        fields = ["id", "log", "day", "author", "author_name", "customer", "project", "what", "place", "minutes",
                  "requests", "rounds", "visible_to_customer"]


class DailyLogOut(serializers.ModelSerializer):
    entries = LogEntryOut(many=True, read_only=True)
    minutes = serializers.SerializerMethodField()

    class Meta:
        model = DailyLog
        fields = ["id", "author", "branch", "day", "submitted_at", "corrected_at", "version", "minutes", "entries"]

    def get_minutes(self, log) -> int:
        return sum(entry.minutes for entry in log.entries.all())


class StartDayIn(serializers.Serializer):
    day = PlausibleDateSerializerField()
    keep = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list,
                                 max_length=100, help_text="Keys of the day's suggestions to keep as entries.")


class DayVersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The day's version you saw; a stale one is a 409.")


class EntryFieldsIn(DayVersionIn):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    what = serializers.CharField(max_length=4000)
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    minutes = serializers.IntegerField(min_value=1, max_value=MINUTES_PER_DAY)
    requests = ScopedPrimaryKeyField(many=True, required=False, default=list, queryset=ServiceRequest.objects.all())
    rounds = ScopedPrimaryKeyField(many=True, required=False, default=list, queryset=InspectionRound.objects.all())
    visible_to_customer = serializers.BooleanField(required=False, default=False)


class AddEntryIn(EntryFieldsIn):
    log = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="One of your own days.")


def validated(request, serializer) -> dict:
    data = serializer(data=request.data, context={"user": request.user})
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class DailyLogViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """LOG-1: days. Staff only: their own, and with `journal.view_team_logs` their scope's."""

    queryset = DailyLog.objects.all()  # always narrowed by get_queryset()
    serializer_class = DailyLogOut
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        return (selectors.visible_logs(self.request.user)
                .prefetch_related("entries__requests", "entries__rounds", "entries__project", "entries__author")
                .order_by("-day", "-pk"))

    def out(self, log) -> Response:
        return Response(DailyLogOut(self.get_queryset().get(pk=log.pk), context=self.get_serializer_context()).data)

    @extend_schema(request=StartDayIn, responses={200: DailyLogOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Start one's day (or get it when started), keeping the suggestions named in `keep`."""
        require_perm(request, WRITE)
        data = validated(request, StartDayIn)
        kept = set(data["keep"])
        keep = [s for s in services.suggestions(request.user, data["day"]) if s.key in kept]
        return self.out(services.start_day(by=request.user, day=data["day"], keep=keep))

    @extend_schema(request=DayVersionIn, responses={200: DailyLogOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(WRITE)
    def submit(self, request, pk=None):
        log = self.get_object()
        return self.out(services.submit_day(log=log, by=request.user, **validated(request, DayVersionIn)))


class LogEntryViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """LOG-1: entries. Scoped; a customer's user reads only the entries marked visible to them."""

    queryset = LogEntry.objects.all()  # always narrowed by get_queryset()
    serializer_class = LogEntryOut
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        return selectors.visible_entries(self.request.user).prefetch_related("requests", "rounds")

    def own_entry(self) -> LogEntry:
        entry = self.get_object()  # scoped: a foreign entry is a 404
        if entry.author_id != self.request.user.pk:
            raise serializers.ValidationError({"non_field_errors": ["Only the author of a log changes it."]})
        return entry

    def out(self, entry, status=200) -> Response:
        return Response(LogEntryOut(self.get_queryset().get(pk=entry.pk)).data, status=status)

    @extend_schema(request=AddEntryIn, responses={201: LogEntryOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        require_perm(request, WRITE)
        data = validated(request, AddEntryIn)
        log = DailyLog.objects.filter(pk=data.pop("log"), author_id=request.user.pk).first()
        if log is None:
            raise serializers.ValidationError({"log": ["Not one of your days."]})
        return self.out(services.add_entry(log=log, by=request.user, **data), status=201)

    @extend_schema(request=EntryFieldsIn, responses={200: LogEntryOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(WRITE)
    def edit(self, request, pk=None):
        entry = self.own_entry()
        return self.out(services.edit_entry(entry=entry, by=request.user, **validated(request, EntryFieldsIn)))

    @extend_schema(request=DayVersionIn, responses={204: None, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(WRITE)
    def remove(self, request, pk=None):
        entry = self.own_entry()
        services.remove_entry(entry=entry, by=request.user, **validated(request, DayVersionIn))
        return Response(status=204)


def register(router) -> None:
    """The app's API routes on the project's router."""
    router.register("daily-logs", DailyLogViewSet, basename="dailylog")
    router.register("log-entries", LogEntryViewSet, basename="logentry")
