"""The desk's API for the alarm channel (issue 11, point 4): unmatched alarm events and the integration keys.

The same rules as the pages (`views`), through the same services:
- the unmatched list needs the page's permission, service.handle_request (`permission_required`, which the URL
  walk reads too); mapping, replaying and dismissing alarm events also intake.add_devicealias;
- integration keys are the model's own permissions: intake.view_integrationkey to list, add_ to create,
  change_ to deactivate (administrators);
- every object is looked up through the scoped queryset the page uses (`visible()`): another customer's or
  branch's object is a 404 like a missing one; an id in the body that the caller may not see is a 400 "does not
  exist";
- an event handled meanwhile is a 409; bad input a 400 with field messages.
The endpoint the monitoring sources call is `api_events`.
"""

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from aftersales.assets.models import Device
from aftersales.assets.selectors import retired_refusal
from aftersales.core.api_base import AuditActorMixin, ScopedPrimaryKeyField, requires
from aftersales.core.api_settings import JSONParser, VerbPermissions
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.filters import ScopedChoiceFilter
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.customers.models import Customer, Project

from ..api_base import DESK_PERM, ERRORS, HANDLED, LIST_ERRORS, NO_INPUT_ERRORS, PagePermission, request_ref
from ..models import AlarmEvent, AlarmOutcome, IntegrationKey
from . import desk, keys, receiving, rules
from .api_events import AlarmResultOut

MAP_PERM = "intake.add_devicealias"  # mapping, replaying and dismissing unmatched events on the page
ADD_KEY_PERM = "intake.add_integrationkey"
CHANGE_KEY_PERM = "intake.change_integrationkey"


# ------------------------------------------------------------------------------------------ unmatched alarms

class UnmatchedFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", help_text="In the reason and the key's name.")
    customer = ScopedChoiceFilter(Customer)
    alarm_type = filters.CharFilter()

    class Meta:
        model = AlarmEvent
        fields = ["q", "customer", "alarm_type"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(reason__icontains=value) | Q(key__name__icontains=value))


class UnmatchedOut(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    key_name = serializers.CharField(source="key.name")
    project = serializers.IntegerField(source="key.project_id", allow_null=True,
                                       help_text="The key's project, if the key is for one project only.")
    device = serializers.SerializerMethodField(help_text="The device as the event named it.")
    alarm_type_label = serializers.SerializerMethodField()
    detail = serializers.SerializerMethodField()

    class Meta:
        model = AlarmEvent
        fields = ["id", "received_at", "occurred_at", "customer", "customer_name", "key", "key_name", "project",
                  "device", "alarm_type", "alarm_type_label", "raised", "detail", "reason", "payload"]

    def get_device(self, event) -> dict:
        device = (event.payload or {}).get("device")
        return device if isinstance(device, dict) else {}

    def get_alarm_type_label(self, event) -> str:
        return rules.type_label(event.alarm_type)

    def get_detail(self, event) -> str:
        return str((event.payload or {}).get("detail") or "")


class MapIn(serializers.Serializer):
    device = ScopedPrimaryKeyField(queryset=Device.objects.all(),
                                   help_text="A registered device the event's integration key may report on.")
    replay = serializers.BooleanField(default=True, help_text="true (default): replay every unmatched event with "
                                                             "this external id, in time order. false: set them aside.")

    def validate_device(self, device):
        if refusal := retired_refusal([device]):  # issue 22 §3: a retired device names its replacement
            raise serializers.ValidationError(refusal)
        return device


class MapOut(serializers.Serializer):
    detail = serializers.CharField()
    external_id = serializers.CharField()
    device = serializers.IntegerField()
    results = AlarmResultOut(many=True, help_text="One per unmatched event with this external id.")


def _result(result: receiving.Result) -> dict:
    return {"event": result.event.pk, "outcome": result.outcome, "detail": result.message,
            "request": request_ref(result.request)}


class UnmatchedAlarmViewSet(AuditActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Alarm events for devices we could not find, with the reason, newest first: map the external id to a
    device, replay after registering the device, or set aside. Nothing is dropped."""

    queryset = AlarmEvent.objects.all()  # always narrowed by get_queryset()
    serializer_class = UnmatchedOut
    permission_classes = [PagePermission]
    permission_required = DESK_PERM
    filterset_class = UnmatchedFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    parser_classes = [JSONParser, FormParser]
    ordering_fields = ["received_at", "occurred_at"]

    def get_queryset(self):
        return visible(AlarmEvent.objects.filter(outcome=AlarmOutcome.UNMATCHED)
                       .select_related("key", "customer").order_by("-received_at", "-pk"), self.request.user)

    def _event(self, *, lock=False) -> AlarmEvent:
        """Any visible event, as on the page (404 otherwise); one no longer unmatched is a 409. With `lock`
        (inside the caller's transaction) the answer cannot be overtaken by someone else's action."""
        events = AlarmEvent.objects.select_related("key__customer", "key__project")
        if lock:
            events = events.select_for_update(of=("self",))
        event = get_visible_or_404(events, self.request.user, pk=self.kwargs["pk"])
        if event.outcome != AlarmOutcome.UNMATCHED:
            raise IllegalTransition(_("This event was handled already."))
        return event

    @extend_schema(operation_id="alarms_unmatched_list", responses={200: UnmatchedOut(many=True), **LIST_ERRORS})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=MapIn, responses={200: MapOut, **ERRORS, **HANDLED})
    @action(detail=True, methods=["post"], url_path="map", url_name="map")
    @requires(MAP_PERM)
    def map_device(self, request, pk=None):
        """Map the event's external id to a registered device (for its customer, once), then replay or set aside
        every unmatched event with that id. Only for events that name their device by external id."""
        event = self._event()
        data = MapIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        device = data.validated_data["device"]
        if not keys.devices_reachable(event.key).filter(pk=device.pk).exists():
            raise DomainError(_("The device is not one this event's integration key may report on."), field="device")
        alias, results = desk.map_external_id(event, device=device, by=request.user,
                                                replay_events=data.validated_data["replay"])
        opened = sum(1 for r in results if r.outcome == AlarmOutcome.OPENED)
        detail = _("“%(id)s” now means %(device)s; %(n)s event(s) handled, %(opened)s request(s) opened.") % {
            "id": alias.external_id, "device": device.name, "n": len(results), "opened": opened}
        return Response({"detail": detail, "external_id": alias.external_id, "device": device.pk,
                         "results": [_result(r) for r in results]})

    @extend_schema(request=None, responses={200: AlarmResultOut, **NO_INPUT_ERRORS, **HANDLED})
    @action(detail=True, methods=["post"])
    @requires(MAP_PERM)
    def replay(self, request, pk=None):
        """Look the device up again (e.g. after registering it) and process the event with its own time;
        `outcome` stays `unmatched` when it is still not found."""
        with transaction.atomic():
            result = desk.replay(self._event(lock=True), by=request.user)
        return Response(_result(result))

    @extend_schema(request=None, responses={200: AlarmResultOut, **NO_INPUT_ERRORS, **HANDLED})
    @action(detail=True, methods=["post"])
    @requires(MAP_PERM)
    def dismiss(self, request, pk=None):
        """Set the event aside (e.g. a test message): kept in the record, no longer listed."""
        with transaction.atomic():
            result = desk.dismiss(self._event(lock=True), by=request.user)
        return Response({**_result(result), "detail": _("The event is set aside; it stays in the record.")})


# ------------------------------------------------------------------------------------------ integration keys

class KeyFilter(filters.FilterSet):
    customer = ScopedChoiceFilter(Customer)
    project = ScopedChoiceFilter(Project)
    active = filters.BooleanFilter()

    class Meta:
        model = IntegrationKey
        fields = ["customer", "project", "active"]


class KeyOut(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    project_name = serializers.CharField(source="project.name", default=None, allow_null=True)  # a customer-wide key
    created_by = serializers.CharField(source="created_by.display_name")

    class Meta:
        model = IntegrationKey
        fields = ["id", "name", "customer", "customer_name", "project", "project_name", "prefix", "active",
                  "auto_close_recovered", "created_by", "created_at", "last_used_at"]


class KeyIn(serializers.Serializer):
    customer = ScopedPrimaryKeyField(queryset=Customer.objects.all())
    project = ScopedPrimaryKeyField(queryset=Project.objects.all(), required=False, allow_null=True, default=None,
                                    help_text="Empty: every project of the customer.")
    name = serializers.CharField(max_length=100,
                                 help_text="The monitoring system it is for, e.g. “Zabbix 天网机房”.")
    auto_close_recovered = serializers.BooleanField(
        default=True,
        help_text="A cleared alarm closes its request if nobody was dispatched yet; otherwise the desk decides.")

    def validate(self, data):
        if data.get("project") is not None and data["project"].customer_id != data["customer"].pk:
            raise serializers.ValidationError({"project": [_("The project must belong to the customer.")]})
        return data


class KeyCreatedOut(KeyOut):
    key = serializers.CharField(help_text="The key itself. Shown only in this answer: only its SHA-256 is stored.")
    endpoint = serializers.CharField(help_text="Where the monitoring system posts its events.")

    class Meta(KeyOut.Meta):
        fields = [*KeyOut.Meta.fields, "key", "endpoint"]


class IntegrationKeyViewSet(AuditActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Integration keys for the alarm endpoint (administrators). A key is shown once, when it is created."""

    queryset = IntegrationKey.objects.all()  # always narrowed by get_queryset()
    serializer_class = KeyOut
    permission_classes = [VerbPermissions]
    filterset_class = KeyFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    parser_classes = [JSONParser, FormParser]
    ordering_fields = ["name", "created_at", "last_used_at"]

    def get_queryset(self):
        return visible(IntegrationKey.objects.select_related("customer", "project", "created_by")
                       .order_by("customer__name", "name", "pk"), self.request.user)

    @extend_schema(operation_id="integration_keys_list", responses={200: KeyOut(many=True), **LIST_ERRORS})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=KeyIn, responses={201: OpenApiResponse(KeyCreatedOut, description=(
        "The key is in `key`, this once (the answer is sent with `Cache-Control: no-store`); only its hash is "
        "stored.")), 400: ERRORS[400], 403: ERRORS[403]})
    @requires(ADD_KEY_PERM)
    def create(self, request, *args, **kwargs):
        """Create a key for a customer, or for one of its projects."""
        data = KeyIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            key, plain = keys.create_key(by=request.user, **data.validated_data)
        key = self.get_queryset().get(pk=key.pk)
        body = {**KeyOut(key).data, "key": plain,
                "endpoint": request.build_absolute_uri(reverse("alarm-event-list"))}
        response = Response(body, status=201)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses={200: KeyOut, **NO_INPUT_ERRORS})
    @action(detail=True, methods=["post"])
    @requires(CHANGE_KEY_PERM)
    def deactivate(self, request, pk=None):
        """Refuse the key's events from now on (its past events stay). Deactivating twice changes nothing."""
        key = get_visible_or_404(IntegrationKey.objects.all(), request.user, pk=pk)
        keys.deactivate_key(key)
        return Response(KeyOut(self.get_queryset().get(pk=key.pk)).data)


def register(router) -> None:
    router.register("alarms/unmatched", UnmatchedAlarmViewSet, basename="alarm-unmatched")
    router.register("integration-keys", IntegrationKeyViewSet, basename="integration-key")
