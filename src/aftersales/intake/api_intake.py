"""The desk's intake lists over the API (issue 11, point 4): mail waiting for triage, label reports whose
reporter is not verified, unmatched alarm events and the integration keys.

The same rules as the pages (views_mail.py, views_alarms.py), through the same services:
- the three desk lists need the page's permission, service.handle_request (`permission_required`, which the
  URL walk reads too); mapping, replaying and dismissing alarm events also intake.add_devicealias;
- integration keys are the model's own permissions: intake.view_integrationkey to list, add_ to create,
  change_ to deactivate (administrators);
- every object is looked up through the scoped queryset the page uses (`visible()`, and for mail
  `triage.desk_mails`, which adds mail whose customer is unknown): another customer's or branch's object
  is a 404 like a missing one; an id in the body that the caller may not see is a 400 "does not exist";
- a mail or event handled meanwhile is a 409; bad input a 400 with field messages.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aftersales.assets.models import Device
from aftersales.core.api_base import AuditActorMixin, ErrorOut, ScopedPrimaryKeyField, requires
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.filters import ScopedChoiceFilter
from aftersales.core.scoping import get_visible_or_404, visible
from aftersales.customers.models import Customer, Project
from aftersales.service.models import Priority, ServiceRequest

from . import alarms, triage
from .api_alarms import AlarmResultOut, RequestRefOut
from .mail import parse_or_none, title_of
from .models import AlarmEvent, AlarmOutcome, InboundMail, IntegrationKey
from .views_mail import PREVIEW_CHARS

DESK_PERM = "service.handle_request"  # the triage and unmatched-alarms pages
MAP_PERM = "intake.add_devicealias"  # mapping, replaying and dismissing unmatched events on the page
ADD_KEY_PERM = "intake.add_integrationkey"
CHANGE_KEY_PERM = "intake.change_integrationkey"

ERRORS = {
    400: OpenApiResponse(ErrorOut, description="Not valid: field messages (`{\"field\": [\"…\"]}`), or `code` and "
                                               "`detail` with the field named; nothing written."),
    403: OpenApiResponse(ErrorOut, description="Not allowed for this user."),
    404: OpenApiResponse(ErrorOut, description="No such object among the caller's (another customer's or branch's "
                                               "looks the same)."),
}
NO_INPUT_ERRORS = {403: ERRORS[403], 404: ERRORS[404]}  # verbs without a body
HANDLED = {409: OpenApiResponse(ErrorOut, description="Handled already (by someone else, or in another tab).")}
LIST_ERRORS = {403: ERRORS[403]}


# ------------------------------------------------------------------------------------------ permissions

class PagePermission(BasePermission):
    """The permission of the page this viewset mirrors, named by the viewset's `permission_required`."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(view.permission_required))


def request_ref(request_obj) -> dict | None:
    if request_obj is None:
        return None
    return {"id": request_obj.pk, "number": request_obj.number, "state": request_obj.state,
            "url": settings.SITE_URL.rstrip("/") + request_obj.get_absolute_url()}


# ------------------------------------------------------------------------------------------ triage: mail

def _parsed(mail: InboundMail):
    """The parsed message (None when it cannot be read), parsed once per object."""
    if not hasattr(mail, "_parsed_mail"):
        mail._parsed_mail = parse_or_none(mail)
    return mail._parsed_mail


class MailOut(serializers.ModelSerializer):
    class Meta:
        model = InboundMail
        fields = ["id", "message_id", "received_at", "from_address", "subject", "state", "reason", "customer",
                  "request", "processed_at"]


class TriageMailOut(MailOut):
    customer_name = serializers.CharField(source="customer.name", default=None)
    readable = serializers.SerializerMethodField(help_text="false: the message cannot be parsed; only the headers "
                                                           "stored on arrival are shown.")
    sender = serializers.SerializerMethodField(help_text="The sender's address, lower case.")
    sender_name = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField(help_text="The title a request opened from it gets by default.")
    text = serializers.SerializerMethodField(help_text=f"The text of the mail, cut at {PREVIEW_CHARS} characters.")
    text_shortened = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField(help_text="Names of the attachments.")

    class Meta(MailOut.Meta):
        fields = [*MailOut.Meta.fields, "customer_name", "readable", "sender", "sender_name", "title", "text",
                  "text_shortened", "files"]

    def get_readable(self, mail) -> bool:
        return _parsed(mail) is not None

    def get_sender(self, mail) -> str:
        parsed = _parsed(mail)
        return parsed.sender if parsed else mail.from_address

    def get_sender_name(self, mail) -> str:
        parsed = _parsed(mail)
        return parsed.sender_name if parsed else ""

    def get_title(self, mail) -> str:
        parsed = _parsed(mail)
        return title_of(parsed) if parsed else mail.subject

    def get_text(self, mail) -> str:
        parsed = _parsed(mail)
        return parsed.text[:PREVIEW_CHARS] if parsed else ""

    def get_text_shortened(self, mail) -> bool:
        parsed = _parsed(mail)
        return bool(parsed) and len(parsed.text) > PREVIEW_CHARS

    def get_files(self, mail) -> list[str]:
        parsed = _parsed(mail)
        return [item.name for item in parsed.files] if parsed else []


class CreateFromMailIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all(),
                                    help_text="A project of the mail's customer (any of yours if the sender is unknown).")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.GENERAL)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                  help_text="Empty: the mail's subject (or its first line).")


class AppendMailIn(serializers.Serializer):
    request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all(),
                                    help_text="A request of the mail's customer (any of yours if the sender is unknown).")


class DismissMailIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MailActionOut(serializers.Serializer):
    detail = serializers.CharField()
    mail = MailOut()
    request = RequestRefOut(allow_null=True)


class TriageMailViewSet(AuditActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Inbound mail waiting for the desk (unknown sender, or no clear request), oldest first: the mail of the
    caller's branch's customers and every mail whose customer is unknown; all for staff who see every branch."""

    queryset = InboundMail.objects.all()  # always narrowed by get_queryset()
    serializer_class = TriageMailOut
    permission_classes = [PagePermission]
    permission_required = DESK_PERM
    parser_classes = [JSONParser, FormParser]
    filter_backends = []

    def get_queryset(self):
        return triage.triage_mails(self.request.user).select_related("customer").order_by("received_at", "pk")

    def _mail(self) -> InboundMail:
        # any state, as on the page: a mail handled meanwhile is a 409 from the service, not a 404
        found = triage.desk_mails(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if found is None:
            raise Http404
        return found

    @staticmethod
    def _out(mail, detail, status=200):
        mail = InboundMail.objects.select_related("request").get(pk=mail.pk)
        return Response({"detail": detail, "mail": MailOut(mail).data, "request": request_ref(mail.request)},
                        status=status)

    @extend_schema(operation_id="triage_mail_list", responses={200: TriageMailOut(many=True), **LIST_ERRORS})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=CreateFromMailIn, responses={201: MailActionOut, **ERRORS, **HANDLED})
    @action(detail=True, methods=["post"], url_path="create-request")
    @requires(DESK_PERM)
    def create_request(self, request, pk=None):
        """Open a request from the mail in one of the caller's projects; its attachments pass the upload checks."""
        mail = self._mail()
        data = CreateFromMailIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        created = triage.create_request_from_mail(mail=mail, by=request.user, **data.validated_data)
        detail = _("Request %(number)s is opened from the mail.") % {"number": created.number}
        return self._out(mail, detail, status=201)

    @extend_schema(request=AppendMailIn, responses={200: MailActionOut, **ERRORS, **HANDLED})
    @action(detail=True, methods=["post"])
    @requires(DESK_PERM)
    def append(self, request, pk=None):
        """Add the mail to a request (e.g. a colleague of the customer's who is not a user yet)."""
        mail = self._mail()
        data = AppendMailIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        target = data.validated_data["request"]
        if mail.customer_id and target.customer_id != mail.customer_id:
            raise DomainError(_("Choose a request of the customer this mail is about."), field="request")
        triage.append_mail_to_request(mail=mail, by=request.user, request=target)
        return self._out(mail, _("The mail is added to %(number)s.") % {"number": target.number})

    @extend_schema(request=DismissMailIn, responses={200: MailActionOut, **ERRORS, **HANDLED})
    @action(detail=True, methods=["post"])
    @requires(DESK_PERM)
    def dismiss(self, request, pk=None):
        """Nothing to do (spam, a thank-you): kept as ignored, with who dismissed it and why."""
        mail = self._mail()
        data = DismissMailIn(data=request.data)
        data.is_valid(raise_exception=True)
        triage.dismiss_mail(mail=mail, by=request.user, reason=data.validated_data["reason"])
        return self._out(mail, _("The mail is dismissed."))


# ------------------------------------------------------------------------------------------ triage: label reports

class DeviceRefOut(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "name", "serial_number", "location"]


class UnverifiedOut(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name")
    project_name = serializers.CharField(source="project.name")
    devices = DeviceRefOut(many=True, read_only=True)

    class Meta:
        model = ServiceRequest
        fields = ["id", "number", "title", "state", "priority", "channel", "customer", "customer_name", "project",
                  "project_name", "reporter_name", "reporter_phone", "devices", "created_at"]


class ConfirmedOut(serializers.Serializer):
    detail = serializers.CharField()
    request = RequestRefOut()


class UnverifiedReportViewSet(AuditActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Open requests from public device labels whose reporter the desk has not confirmed yet, oldest first."""

    queryset = ServiceRequest.objects.all()  # always narrowed by get_queryset()
    serializer_class = UnverifiedOut
    permission_classes = [PagePermission]
    permission_required = DESK_PERM
    filter_backends = []

    def get_queryset(self):
        return (triage.unverified_reports(self.request.user).select_related("project", "customer")
                .prefetch_related(Prefetch("devices", queryset=Device.objects.only("pk", "name", "serial_number",
                                                                                  "location")))
                .order_by("created_at", "pk"))

    @extend_schema(operation_id="triage_unverified_list", responses={200: UnverifiedOut(many=True), **LIST_ERRORS})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: ConfirmedOut, **NO_INPUT_ERRORS, **HANDLED})
    @action(detail=True, methods=["post"], url_path="confirm-reporter")
    @requires(DESK_PERM)
    def confirm_reporter(self, request, pk=None):
        """The desk called the reporter back (or otherwise checked the report): the reporter is verified."""
        target = triage.unverified_reports(request.user).filter(pk=pk).first()
        if target is None:  # as on the page: only a waiting report; a verified or closed one is not in the list
            raise Http404
        confirmed = triage.confirm_reporter(request=target, by=request.user)
        return Response({"detail": _("The reporter of %(number)s is confirmed.") % {"number": confirmed.number},
                         "request": request_ref(confirmed)})


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
        return alarms.type_label(event.alarm_type)

    def get_detail(self, event) -> str:
        return str((event.payload or {}).get("detail") or "")


class MapIn(serializers.Serializer):
    device = ScopedPrimaryKeyField(queryset=Device.objects.all(),
                                   help_text="A registered device the event's integration key may report on.")
    replay = serializers.BooleanField(default=True, help_text="true (default): replay every unmatched event with "
                                                             "this external id, in time order. false: set them aside.")


class MapOut(serializers.Serializer):
    detail = serializers.CharField()
    external_id = serializers.CharField()
    device = serializers.IntegerField()
    results = AlarmResultOut(many=True, help_text="One per unmatched event with this external id.")


def _result(result: alarms.Result) -> dict:
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
        if not alarms.devices_reachable(event.key).filter(pk=device.pk).exists():
            raise DomainError(_("The device is not one this event's integration key may report on."), field="device")
        alias, results = alarms.map_external_id(event, device=device, by=request.user,
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
            result = alarms.replay(self._event(lock=True), by=request.user)
        return Response(_result(result))

    @extend_schema(request=None, responses={200: AlarmResultOut, **NO_INPUT_ERRORS, **HANDLED})
    @action(detail=True, methods=["post"])
    @requires(MAP_PERM)
    def dismiss(self, request, pk=None):
        """Set the event aside (e.g. a test message): kept in the record, no longer listed."""
        with transaction.atomic():
            result = alarms.dismiss(self._event(lock=True), by=request.user)
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
    project_name = serializers.CharField(source="project.name", default=None)
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
            key, plain = alarms.create_key(by=request.user, **data.validated_data)
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
        alarms.deactivate_key(key)
        return Response(KeyOut(self.get_queryset().get(pk=key.pk)).data)


def register(router) -> None:
    router.register("triage/mail", TriageMailViewSet, basename="triage-mail")
    router.register("triage/unverified", UnverifiedReportViewSet, basename="triage-unverified")
    router.register("alarms/unmatched", UnmatchedAlarmViewSet, basename="alarm-unmatched")
    router.register("integration-keys", IntegrationKeyViewSet, basename="integration-key")
