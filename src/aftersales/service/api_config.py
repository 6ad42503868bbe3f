"""Issue 21 §6 over the API, for integrators who script the configuration: /api/config/…

    calendars/                     the work calendars; {id}/year/?year=YYYY a year of one, public-year/?year= the public one
    calendar-days/                 the listed days (?calendar=, ?public=true, ?year=); POST adds or renames, DELETE removes
    holiday-years/                 the known years; POST import/ {"year"} imports a year of the bundled data,
                                   POST complete/ {"year"} records a year entered by hand as known
    policies/                      the SLA policies with their targets; {id}/preview/ "a request opened now would be due at";
                                   administrators POST a new one (or a copy), PATCH {id}/ with its `version` (the
                                   `rules` replace the set; a stale version is a 409), DELETE {id}/ one nobody uses
    project-policies/              each visible project's policy; PUT {id}/ {"policy": id | null}
    ladders/                       each visible branch's ladder as it applies today, with who each step notifies
    escalation-steps/              the steps of the visible branches' own ladders: POST, PATCH, DELETE

Every write is a verb of service/config.py (one transaction, audited); every error is the one error body
`{code, detail, fields?}`; a step that would notify nobody is a 400 with `fields.position`.
"""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aftersales.accounts.models import Branch, Position
from aftersales.core import clock as wall_clock
from aftersales.core.api_base import AuditActorMixin, ErrorOut, ScopedPrimaryKeyField, requires
from aftersales.core.plausible import PlausibleDateSerializerField, implausible_year_message, plausible_year
from aftersales.core.scoping import visible
from aftersales.customers.models import Project

from . import config, policy_config
from .models import (
    CalendarDay, DayKind, EscalationRule, HolidayYear, Priority, SlaPolicy, SlaTargetRule, TargetKind, TargetStart,
    WorkCalendar,
)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
YEAR_PARAMETER = OpenApiParameter("year", str, description="YYYY; default: this year", pattern=r"^\d{4}$")


class ConfigPermission(BasePermission):
    """Reading needs the viewset's `permission_required` (read by the URL-walk test too); each write checks its own
    change permission (`requires`)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(view.permission_required))


class ConfigViewSetMixin(AuditActorMixin):
    permission_classes = [ConfigPermission]
    filter_backends = []


def year_param(request) -> int:
    raw = request.query_params.get("year", "").strip()
    if not raw:
        return wall_clock.today().year
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise ValidationError({"year": [_("Use YYYY.")]})
    if not plausible_year(int(raw)):
        raise ValidationError({"year": [implausible_year_message()]})
    return int(raw)


# ------------------------------------------------------------------------------------------------ calendars

class CalendarOut(serializers.ModelSerializer):
    class Meta:
        model = WorkCalendar
        fields = ["id", "name", "always_on", "use_public_holidays", "weekly_hours"]


class YearDayOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    day = serializers.DateField()
    kind = serializers.CharField(help_text="`off` (a day off) or `make_up` (a make-up working day, 调休).")
    name = serializers.CharField(allow_blank=True)
    closure = serializers.BooleanField(help_text="The calendar's own day (else the public calendar's).")


class CalendarYearOut(serializers.Serializer):
    calendar = serializers.IntegerField(allow_null=True, help_text="null: the public calendar.")
    year = serializers.IntegerField()
    known = serializers.BooleanField(help_text="The year's public days off and make-up days are complete.")
    known_source = serializers.CharField(allow_blank=True)
    bundled = serializers.BooleanField(help_text="The bundled chinese-calendar data knows the year (it can be imported).")
    days_off = serializers.IntegerField()
    make_up_days = serializers.IntegerField()
    days = YearDayOut(many=True)
    missing_years = serializers.ListField(child=serializers.IntegerField(),
                                          help_text="Years to fill in now (this year; from October also the next).")


def year_out(work_calendar, year) -> dict:
    view = config.year_view(work_calendar, year)
    return {"calendar": work_calendar.pk if work_calendar else None, "year": year, "known": view["known"],
            "known_source": view["known_source"], "bundled": view["bundled"], "days_off": view["days_off"],
            "make_up_days": view["make_up_days"], "days": YearDayOut(view["days"], many=True).data,
            "missing_years": config.missing_holiday_years()}


class CalendarViewSet(ConfigViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The work calendars (read-only here: their days are written through calendar-days and holiday-years)."""

    queryset = WorkCalendar.objects.order_by("name")
    serializer_class = CalendarOut
    permission_required = config.VIEW_CALENDARS

    @extend_schema(parameters=[YEAR_PARAMETER], responses={200: CalendarYearOut, **ERRORS})
    @action(detail=True, methods=["get"])
    def year(self, request, pk=None):
        """A year of the calendar: its days off, make-up working days and named days, its own closures marked."""
        return Response(year_out(self.get_object(), year_param(request)))

    @extend_schema(parameters=[YEAR_PARAMETER], responses={200: CalendarYearOut, **ERRORS})
    @action(detail=False, methods=["get"], url_path="public-year")
    def public_year(self, request):
        """A year of the public calendar, shared by every calendar that follows the public holidays."""
        return Response(year_out(None, year_param(request)))


class CalendarDayOut(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="`off` (a day off) or `make_up` (a make-up working day, 调休).")

    class Meta:
        model = CalendarDay
        fields = ["id", "calendar", "day", "kind", "name"]


class CalendarDayIn(serializers.Serializer):
    calendar = serializers.PrimaryKeyRelatedField(queryset=WorkCalendar.objects.all(), allow_null=True, required=False,
                                                  help_text="Absent or null: the public calendar.")
    day = PlausibleDateSerializerField()
    kind = serializers.ChoiceField(choices=DayKind.choices)
    name = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")


class RecomputedOut(serializers.Serializer):
    recomputed = serializers.IntegerField(help_text="Open requests whose due times were recomputed.")


class CalendarDaySavedOut(CalendarDayOut):
    recomputed = serializers.IntegerField(read_only=True, help_text="Open requests whose due times were recomputed.")

    class Meta(CalendarDayOut.Meta):
        fields = [*CalendarDayOut.Meta.fields, "recomputed"]


class CalendarDayFilter(filters.FilterSet):
    calendar = filters.ModelChoiceFilter(queryset=WorkCalendar.objects.all())
    public = filters.BooleanFilter(field_name="calendar", lookup_expr="isnull", help_text="true: the public calendar's days")
    year = filters.NumberFilter(method="in_year", min_value=2000, max_value=2100)

    class Meta:
        model = CalendarDay
        fields = ["calendar", "public", "year"]

    def in_year(self, queryset, name, value):
        return queryset.filter(day__year=int(value))


class CalendarDayViewSet(ConfigViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The listed days: the public calendar's days off and make-up days, and each calendar's own closures."""

    queryset = CalendarDay.objects.order_by("day", "pk")
    serializer_class = CalendarDayOut
    permission_required = config.VIEW_CALENDARS
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = CalendarDayFilter

    @extend_schema(request=CalendarDayIn, responses={201: CalendarDaySavedOut, **ERRORS})
    @requires(config.CHANGE_CALENDARS)
    def create(self, request, *args, **kwargs):
        """Add a day, or change the kind and name of the day already listed for that date in that calendar. The open
        requests due from that day on are recomputed in the same action."""
        data = CalendarDayIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        row, recomputed = config.save_day(work_calendar=fields.get("calendar"), day=fields["day"], kind=fields["kind"],
                                          name=fields.get("name", ""), by=request.user)
        return Response({**CalendarDayOut(row).data, "recomputed": recomputed}, status=201)

    @extend_schema(responses={200: RecomputedOut, **ERRORS})
    @requires(config.CHANGE_CALENDARS)
    def destroy(self, request, *args, **kwargs):
        """Remove the day; the open requests due from that day on are recomputed."""
        return Response({"recomputed": config.remove_day(row=self.get_object(), by=request.user)})


class HolidayYearOut(serializers.ModelSerializer):
    class Meta:
        model = HolidayYear
        fields = ["year", "source"]


class YearIn(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class ImportOut(serializers.Serializer):
    year = serializers.IntegerField()
    days_off = serializers.IntegerField()
    make_up_days = serializers.IntegerField()
    added = serializers.IntegerField(help_text="Days not listed before (days already listed are kept).")
    recomputed = serializers.IntegerField(help_text="Open requests whose due times were recomputed.")


class HolidayYearViewSet(ConfigViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The known years: those whose public days off and make-up working days are complete."""

    queryset = HolidayYear.objects.order_by("year")
    serializer_class = HolidayYearOut
    permission_required = config.VIEW_CALENDARS

    @extend_schema(request=YearIn, responses={201: ImportOut, **ERRORS})
    @action(detail=False, methods=["post"], url_path="import")
    @requires(config.CHANGE_CALENDARS)
    def import_year(self, request):
        """Import a year of Chinese public holidays and make-up working days from the bundled chinese-calendar data
        and record the year as known, in one action; a year the data does not know is a 400 (`fields.year`)."""
        data = YearIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = config.import_public_year(year=data.validated_data["year"], by=request.user)
        return Response(ImportOut(result).data, status=201)

    @extend_schema(request=YearIn, responses={200: HolidayYearOut, **ERRORS})
    @action(detail=False, methods=["post"])
    @requires(config.CHANGE_CALENDARS)
    def complete(self, request):
        """Record a year whose days were entered by hand (calendar-days) as known."""
        data = YearIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(HolidayYearOut(config.mark_year_known(year=data.validated_data["year"], by=request.user)).data)


# ------------------------------------------------------------------------------------------------ policies

class TargetRuleOut(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="The target: `reply`, `departure`, `arrival` or `resolution`.")

    class Meta:
        model = SlaTargetRule
        fields = ["priority", "kind", "minutes", "starts", "onsite_only"]


class PolicyOut(serializers.ModelSerializer):
    rules = TargetRuleOut(many=True, read_only=True)
    version = serializers.IntegerField(read_only=True, help_text="Send it back with a change: a change made on an older "
                                                                 "version is refused (409 `stale`).")

    class Meta:
        model = SlaPolicy
        fields = ["id", "name", "calendar", "warn_at_percent", "is_default", "version", "rules"]


class PolicySavedOut(PolicyOut):
    recomputed = serializers.IntegerField(read_only=True, help_text="Open requests of the policy whose due times were "
                                                                    "recomputed (a new calendar or warning percentage).")

    class Meta(PolicyOut.Meta):
        fields = [*PolicyOut.Meta.fields, "recomputed"]


class TargetRuleIn(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    kind = serializers.ChoiceField(choices=TargetKind.choices)
    minutes = serializers.IntegerField(min_value=1, max_value=policy_config.MAX_TARGET_MINUTES,
                                       help_text="Service time on the policy's calendar (at most 90 days).")
    starts = serializers.ChoiceField(choices=TargetStart.choices, required=False, default=TargetStart.CREATED,
                                     help_text="Counted from: `created` (any target), `dispatched` (the on-site decision: "
                                               "departure, arrival, resolution), `arrived` (resolution only).")
    onsite_only = serializers.BooleanField(required=False, default=False,
                                           help_text="Always true for departure and arrival, always false for reply.")


RULES_HELP = ("The whole set of targets, at most one per priority and kind. Within a priority, counted from the same "
              "moment, the resolution may not be shorter than the reply, nor the arrival than the departure; a "
              "refused set is a 400 with `fields.rules`.")


class PolicyIn(serializers.Serializer):
    name = serializers.CharField(max_length=policy_config.MAX_NAME_LENGTH)
    calendar = serializers.PrimaryKeyRelatedField(queryset=WorkCalendar.objects.all())
    warn_at_percent = serializers.IntegerField(min_value=1, max_value=99, required=False, default=80)
    is_default = serializers.BooleanField(required=False, default=False,
                                          help_text="true: the old default stops being the default, in the same action.")
    copy_from = serializers.PrimaryKeyRelatedField(queryset=SlaPolicy.objects.all(), required=False, allow_null=True,
                                                   help_text="Start with every target of this policy (not with `rules`).")
    rules = TargetRuleIn(many=True, required=False, max_length=policy_config.MAX_TARGETS, help_text=RULES_HELP)


class PolicyChangeIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The policy's `version` as read: a change made since is a 409 `stale`.")
    name = serializers.CharField(max_length=policy_config.MAX_NAME_LENGTH, required=False)
    calendar = serializers.PrimaryKeyRelatedField(queryset=WorkCalendar.objects.all(), required=False)
    warn_at_percent = serializers.IntegerField(min_value=1, max_value=99, required=False)
    is_default = serializers.BooleanField(required=False, help_text="Only true: the default policy stays the default "
                                                                    "until another one is made the default.")
    rules = TargetRuleIn(many=True, required=False, max_length=policy_config.MAX_TARGETS,
                         help_text=RULES_HELP + " Replaces the policy's targets; [] removes them all.")


def target_specs(rules) -> list | None:
    return None if rules is None else [policy_config.TargetSpec(**rule) for rule in rules]


VERSION_PARAMETER = OpenApiParameter("version", int, required=False,
                                     description="The policy's `version` as read: refused (409 `stale`) if it changed.")


class PreviewRowOut(serializers.Serializer):
    priority = serializers.CharField()
    kind = serializers.CharField()
    minutes = serializers.IntegerField()
    starts = serializers.CharField()
    onsite_only = serializers.BooleanField()
    due_at = serializers.DateTimeField()
    warn_at = serializers.DateTimeField()
    provisional = serializers.BooleanField(help_text="A day on the way lies in a year without holiday data.")
    condition = serializers.CharField(help_text="When the clock starts, in words.")


class PreviewOut(serializers.Serializer):
    policy = serializers.IntegerField()
    now = serializers.DateTimeField()
    rows = PreviewRowOut(many=True)


def preview_out(policy) -> dict:
    now = wall_clock.now()
    return {"policy": policy.pk, "now": now, "rows": config.preview(policy, now=now)}


class PolicyViewSet(ConfigViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The SLA policies and their targets. Administrators create, change and delete them (service.change_slapolicy);
    a change applies to requests opened from then on, open requests keep the targets they were given."""

    queryset = SlaPolicy.objects.prefetch_related("rules").order_by("name")
    serializer_class = PolicyOut
    permission_required = config.VIEW_POLICIES
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def answer(self, policy, status=200, recomputed=None):
        policy = SlaPolicy.objects.prefetch_related("rules").get(pk=policy.pk)
        body = PolicyOut(policy).data
        if recomputed is not None:
            body = {**body, "recomputed": recomputed}
        return Response(body, status=status)

    @extend_schema(request=PolicyIn, responses={201: PolicyOut, **ERRORS})
    @requires(config.CHANGE_POLICIES)
    def create(self, request, *args, **kwargs):
        """A new policy: with `rules`, or a copy of another policy's targets (`copy_from`), or none yet."""
        data = PolicyIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        policy = policy_config.create_policy(
            name=fields["name"], calendar=fields["calendar"], warn_at_percent=fields["warn_at_percent"],
            is_default=fields["is_default"], copy_from=fields.get("copy_from"), targets=target_specs(fields.get("rules")),
            by=request.user)
        return self.answer(policy, status=201)

    @extend_schema(request=PolicyChangeIn, responses={200: PolicySavedOut, **ERRORS, 409: ErrorOut})
    @requires(config.CHANGE_POLICIES)
    def partial_update(self, request, *args, **kwargs):
        """Change what is sent, if the policy is still at `version` (else 409 `stale`, nothing written). `rules`
        replaces the whole set of targets. A new calendar or warning percentage recomputes the due times of the
        policy's open requests (`recomputed`)."""
        policy = self.get_object()
        data = PolicyChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        saved = policy_config.update_policy(
            policy=policy, version=fields["version"], name=fields.get("name"), calendar=fields.get("calendar"),
            warn_at_percent=fields.get("warn_at_percent"), is_default=fields.get("is_default"),
            targets=target_specs(fields.get("rules")), by=request.user)
        return self.answer(saved.policy, recomputed=saved.recomputed)

    @extend_schema(parameters=[VERSION_PARAMETER], responses={204: None, **ERRORS, 409: ErrorOut})
    @requires(config.CHANGE_POLICIES)
    def destroy(self, request, *args, **kwargs):
        """Delete a policy nobody uses; the default, or a policy a project names or a request was opened under, is a
        409 `in_use` whose detail says how many use it."""
        policy = self.get_object()
        raw = request.query_params.get("version", "").strip()
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
            raise ValidationError({"version": [_("A valid integer is required.")]})
        policy_config.delete_policy(policy=policy, by=request.user, version=int(raw) if raw else None)
        return Response(status=204)

    @extend_schema(responses={200: PreviewOut, **ERRORS})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """Each target as if a request of each priority were opened now (and each later start happened now): when
        it would be due and warned. Nothing is written."""
        return Response(PreviewOut(preview_out(self.get_object())).data)


class ProjectPolicyOut(serializers.Serializer):
    project = serializers.IntegerField()
    policy = serializers.IntegerField(allow_null=True, help_text="The project's own choice; null: the default policy.")
    effective_policy = serializers.IntegerField(allow_null=True, help_text="The policy new requests of the project get.")


class ProjectPolicyIn(serializers.Serializer):
    policy = serializers.PrimaryKeyRelatedField(queryset=SlaPolicy.objects.all(), allow_null=True,
                                                help_text="null: the default policy.")


def project_policy_out(project) -> dict:
    policy, own = config.policy_of_project(project)
    return {"project": project.pk, "policy": policy.pk if own and policy else None,
            "effective_policy": policy.pk if policy else None}


class ProjectPolicyViewSet(ConfigViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The SLA policy of each project the caller may see (a department manager: their branch's)."""

    queryset = Project.objects.all()  # always narrowed by get_queryset()
    serializer_class = ProjectPolicyOut
    permission_required = "service.view_projectpolicy"
    http_method_names = ["get", "put", "head", "options"]

    def get_queryset(self):
        return visible(Project.objects.order_by("pk"), self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([project_policy_out(project) for project in page])

    def retrieve(self, request, *args, **kwargs):
        return Response(project_policy_out(self.get_object()))

    @extend_schema(request=ProjectPolicyIn, responses={200: ProjectPolicyOut, **ERRORS})
    @requires(config.CHANGE_PROJECT_POLICY)
    def update(self, request, *args, **kwargs):
        """Choose the project's policy (null: the default). New requests get it; open requests keep theirs."""
        project = self.get_object()
        data = ProjectPolicyIn(data=request.data)
        data.is_valid(raise_exception=True)
        config.set_project_policy(project=project, policy=data.validated_data["policy"], by=request.user)
        return Response(project_policy_out(project))


# ------------------------------------------------------------------------------------------------ ladders

class RecipientOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="display_name")
    branch = serializers.IntegerField(source="branch_id", allow_null=True)


class StepOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk", allow_null=True, help_text="null: a step of the default ladder.")
    level = serializers.IntegerField()
    position = serializers.ChoiceField(choices=Position.choices)
    delay_minutes = serializers.IntegerField()
    notifies = RecipientOut(many=True, help_text="Who the step would notify today (the notices' own resolution).")
    from_other_branches = serializers.BooleanField(
        help_text="Nobody of the position in the branch: every holder of it is notified.")


class DefaultStepOut(serializers.Serializer):
    level = serializers.IntegerField()
    position = serializers.CharField()
    delay_minutes = serializers.IntegerField()


class LadderOut(serializers.Serializer):
    branch = serializers.IntegerField(source="branch.pk")
    own = serializers.BooleanField(help_text="The branch has its own ladder, which replaces the default completely.")
    note = serializers.CharField()
    steps = StepOut(many=True)
    silent_levels = serializers.ListField(child=serializers.IntegerField(), source="silent",
                                          help_text="Levels that would notify nobody today.")
    default_ladder = DefaultStepOut(many=True)


def ladder_out(branch) -> dict:
    return LadderOut({**config.ladder(branch), "default_ladder": config.ladder_for_display_default()}).data


class LadderViewSet(ConfigViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Each visible branch's escalation ladder as it applies today (its own, or the default)."""

    queryset = Branch.objects.all()  # always narrowed by get_queryset()
    serializer_class = LadderOut
    permission_required = config.VIEW_LADDERS

    def get_queryset(self):
        return visible(Branch.objects.order_by("name", "pk"), self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([ladder_out(branch) for branch in page])

    def retrieve(self, request, *args, **kwargs):
        return Response(ladder_out(self.get_object()))


class StepIn(serializers.Serializer):
    branch = ScopedPrimaryKeyField(queryset=Branch.objects.all())
    level = serializers.IntegerField(min_value=1, max_value=config.MAX_LEVELS)
    position = serializers.ChoiceField(choices=Position.choices)
    delay_minutes = serializers.IntegerField(min_value=0, max_value=config.MAX_DELAY_MINUTES, required=False, default=0)


class StepChangeIn(serializers.Serializer):
    level = serializers.IntegerField(min_value=1, max_value=config.MAX_LEVELS, required=False)
    position = serializers.ChoiceField(choices=Position.choices, required=False)
    delay_minutes = serializers.IntegerField(min_value=0, max_value=config.MAX_DELAY_MINUTES, required=False)


class EscalationStepOut(serializers.ModelSerializer):
    class Meta:
        model = EscalationRule
        fields = ["id", "branch", "level", "position", "delay_minutes"]


class EscalationStepViewSet(ConfigViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin,
                            viewsets.GenericViewSet):
    """The steps of the visible branches' own ladders. A branch's first step replaces the default ladder; a step whose
    position would notify nobody is refused (400, `fields.position`)."""

    queryset = EscalationRule.objects.all()  # always narrowed by get_queryset()
    serializer_class = EscalationStepOut
    permission_required = config.VIEW_LADDERS
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return EscalationRule.objects.filter(branch__in=visible(Branch.objects.all(), self.request.user)).order_by(
            "branch_id", "level", "pk")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    @extend_schema(request=StepIn, responses={201: EscalationStepOut, **ERRORS})
    @requires(config.CHANGE_LADDERS)
    def create(self, request, *args, **kwargs):
        data = StepIn(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        step = config.save_step(by=request.user, **data.validated_data)
        return Response(EscalationStepOut(step).data, status=201)

    @extend_schema(request=StepChangeIn, responses={200: EscalationStepOut, **ERRORS})
    @requires(config.CHANGE_LADDERS)
    def partial_update(self, request, *args, **kwargs):
        step = self.get_object()
        data = StepChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {"level": step.level, "position": step.position, "delay_minutes": step.delay_minutes,
                  **data.validated_data}
        step = config.save_step(branch=step.branch, step=step, by=request.user, **fields)
        return Response(EscalationStepOut(step).data)

    @extend_schema(responses={204: None, **ERRORS})
    @requires(config.CHANGE_LADDERS)
    def destroy(self, request, *args, **kwargs):
        config.remove_step(step=self.get_object(), by=request.user)
        return Response(status=204)


def register(router) -> None:
    router.register("config/calendars", CalendarViewSet, basename="config-calendar")
    router.register("config/calendar-days", CalendarDayViewSet, basename="config-calendar-day")
    router.register("config/holiday-years", HolidayYearViewSet, basename="config-holiday-year")
    router.register("config/policies", PolicyViewSet, basename="config-policy")
    router.register("config/project-policies", ProjectPolicyViewSet, basename="config-project-policy")
    router.register("config/ladders", LadderViewSet, basename="config-ladder")
    router.register("config/escalation-steps", EscalationStepViewSet, basename="config-escalation-step")
