"""Service requests over the API: scoped, documented, 400 with field messages, 409 on illegal moves."""

import json

from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from aftersales.accounts.models import DISPLAY_NAME_FIELDS, Position, User, display_name
from aftersales.assets.models import Device
from aftersales.assets.selectors import retired_refusal
from aftersales.billing import services as billing_services
from aftersales.billing.api import ChargeSheetOut, ExceptionIn, sheet_of, sheet_out
from aftersales.core import clock
from aftersales.core.api_base import AuditActorMixin, ErrorOut, ScopedPrimaryKeyField, require_perm, requires
from aftersales.core.api_settings import JSONParser, VerbPermissions, depth_exceeds
from aftersales.core.filters import ScopedChoiceFilter
from aftersales.core.plausible import PlausibleDateTimeSerializerField, validate_plausible
from aftersales.core.rows import api_row, api_rows, api_value, row_id
from aftersales.core import scoping
from aftersales.core.scoping import EVERYTHING, Scope, get_visible_or_404, visible
from aftersales.customers.models import Customer, Project
from aftersales.parts import services as parts_services
from aftersales.parts.models import Location, Part

from . import attachments, dispatching, part_lines, selectors, verbs
from . import search as request_search
from .actions import permission_of
from .models import (
    OPEN_STATES, Attachment, Channel, IncidentReport, Priority, ServiceMode, ServiceRequest, State, Target, TimelineEvent, WorkOrder,
    WorkOrderState, WorkResult,
)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class RequestFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=State.choices)
    priority = filters.ChoiceFilter(choices=Priority.choices)
    customer = ScopedChoiceFilter(Customer)
    project = ScopedChoiceFilter(Project)
    created_after = filters.DateTimeFilter(field_name="created_at", lookup_expr="gte", validators=[validate_plausible])
    created_before = filters.DateTimeFilter(field_name="created_at", lookup_expr="lt", validators=[validate_plausible])
    open = filters.BooleanFilter(method="only_open")
    q = filters.CharFilter(method="search", max_length=request_search.MAX_LENGTH,
                           help_text="Request number, phone, serial or contract number, reporter name, or words of the title or "
                                     "reporter name (Chinese: any two or more consecutive characters; other words "
                                     "whole): the list page's search.")

    class Meta:
        model = ServiceRequest
        fields = ["state", "priority", "customer", "project", "branch", "assignee", "created_after", "created_before"]

    def only_open(self, queryset, name, value):
        return queryset.filter(state__in=OPEN_STATES) if value else queryset.exclude(state__in=OPEN_STATES)

    def search(self, queryset, name, value):
        one_customer = bool(self.request and self.request.user.customer_id)
        return request_search.search_requests(queryset, value, one_customer=one_customer)  # issue 21 §8: the pages' search


QUEUE_IDS = {"branch": "branch_id", "customer": "customer_id", "assignee": "assignee_id"}
QUEUE_CHOICES = {"priority": Priority.values, "state": [state.value for state in OPEN_STATES]}
QUEUE_PARAMETERS = [
    *(OpenApiParameter(name, int, description=f"Only the requests of this {name} (id).") for name in QUEUE_IDS),
    *(OpenApiParameter(name, str, enum=values) for name, values in QUEUE_CHOICES.items()),
]


def queue_filters(params) -> dict:
    """The desk queue's filters, checked by hand: the queue is polled by every desk, and building a FilterSet
    and its form cost a quarter of the call. Bad values are a 400 naming the parameter."""
    lookups, errors = {}, {}
    for name, column in QUEUE_IDS.items():
        if value := params.get(name):
            if (pk := row_id(value)) is not None:
                lookups[column] = pk
            else:
                errors[name] = [gettext("Enter a whole number.")]
    for name, values in QUEUE_CHOICES.items():
        if value := params.get(name):
            if value in values:
                lookups[name] = value
            else:
                errors[name] = [gettext("Select a valid choice. %(value)s is not one of the available choices.")
                                % {"value": value}]
    if errors:
        raise serializers.ValidationError(errors)
    return lookups


class TargetOut(serializers.ModelSerializer):
    class Meta:
        model = Target
        fields = ["kind", "minutes", "started_at", "due_at", "warn_at", "met_at", "breached_at", "provisional"]


class EventOut(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.display_name", default=None)

    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "at", "actor", "text", "data"]


class RequestListOut(serializers.ModelSerializer):
    class Meta:
        model = ServiceRequest
        fields = ["id", "number", "title", "state", "priority", "channel", "project", "customer", "branch", "assignee",
                  "escalation_level", "paused", "reply_due_at", "resolve_due_at", "next_due_at", "due_provisional",
                  "created_at", "customer_rank"]


class RequestOut(RequestListOut):
    targets = TargetOut(many=True, read_only=True)
    events = EventOut(many=True, read_only=True)

    class Meta(RequestListOut.Meta):
        fields = [*RequestListOut.Meta.fields, "description", "business_impact", "devices", "reporter_name",
                  "reporter_phone", "service_mode", "plan", "scheduled_for", "contingency_plan", "advisor",
                  "replied_at", "resolved_at", "closed_at", "version", "targets", "events"]


_ACTOR_FIELDS = [f"actor__{field}" for field in DISPLAY_NAME_FIELDS]
_REQUEST_FIELDS = tuple(f for f in RequestOut.Meta.fields if f not in ("devices", "targets", "events"))


def request_out(pk, user=None) -> dict:
    """RequestOut's body without model instances (the request page API is hot). A request `user` may not see is a
    404; `user` None reads any request (an answer to a verb that already checked the scope)."""
    pk = row_id(pk)
    scope = Scope(EVERYTHING) if user is None else scoping.scope_of(user)
    page = None if pk is None else selectors.request_page(pk, scope, fields=_REQUEST_FIELDS,
                                                          target_fields=tuple(TargetOut.Meta.fields))
    if page is None:
        raise Http404
    row, devices, targets, events = page
    out = api_row(row)
    out["devices"] = devices
    out["targets"] = api_rows(targets)
    out["events"] = [
        {"id": e["id"], "kind": e["kind"], "at": api_value(e["at"]),
         "actor": display_name(*(e[field] for field in _ACTOR_FIELDS)) if e["actor__username"] is not None else None,
         "text": e["text"], "data": e["data"]}
        for e in events
    ]
    return {name: out[name] for name in RequestOut.Meta.fields}


class UploadsField(serializers.ListField):
    """Several files under one name (multipart/form-data): counted, size- and type-checked like every upload
    (attachments.check_uploads), so a bad file is a 400 naming the field and nothing is written."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.FileField(), **kwargs)

    def to_internal_value(self, data):
        uploads = super().to_internal_value(data)
        if errors := attachments.check_uploads(uploads):
            raise serializers.ValidationError(errors)
        return uploads


class OpenRequestIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all())
    priority = serializers.ChoiceField(choices=Priority.choices)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    business_impact = serializers.CharField(required=False, allow_blank=True, default="")
    devices = ScopedPrimaryKeyField(queryset=Device.objects.all(), many=True, required=False)
    reporter_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    customer_rank = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=99)
    attachments = UploadsField(required=False, default=list,
                               help_text="Files stored with the request, in the same transaction (multipart/form-data): "
                                         "images, PDF, ZIP or text logs, at most 10 files of 10 MB each.")

    def validate_devices(self, devices):
        if refusal := retired_refusal(devices):  # issue 22 §3: a retired device names the one that replaced it
            raise serializers.ValidationError(refusal)
        return devices


class VersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1,
                                       help_text="The request's version you saw; a stale one is a 409.")


class ReplyIn(VersionIn):
    mode = serializers.ChoiceField(choices=ServiceMode.choices)
    plan = serializers.CharField()
    scheduled_for = PlausibleDateTimeSerializerField(required=False, allow_null=True)


class DispatchIn(VersionIn):
    engineer = ScopedPrimaryKeyField(queryset=User.objects.filter(customer__isnull=True, is_active=True))


class ArriveIn(serializers.Serializer):
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)
    accuracy_m = serializers.FloatField(required=False, min_value=0)
    photo = serializers.FileField(required=False)
    confirmed_by_customer = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if ("latitude" in data) != ("longitude" in data):
            raise serializers.ValidationError({"longitude": [_("Give both latitude and longitude.")]})
        return data


class ReasonIn(VersionIn):
    reason = serializers.CharField()


class PriorityIn(VersionIn):
    priority = serializers.ChoiceField(choices=Priority.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TextIn(serializers.Serializer):
    text = serializers.CharField()


class ContingencyIn(VersionIn):
    text = serializers.CharField()


class AdvisorIn(VersionIn):
    advisor = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(position=Position.TECHNICAL_ADVISOR, is_active=True))
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PartLineIn(serializers.Serializer):
    part = serializers.PrimaryKeyRelatedField(queryset=Part.objects.all(), help_text="A part of the catalogue (id).")
    quantity = serializers.IntegerField(min_value=1, max_value=parts_services.MAX_QUANTITY)
    serials = serializers.ListField(child=serializers.CharField(max_length=parts_services.MAX_SERIAL_LENGTH),
                                    required=False, default=list, max_length=parts_services.MAX_QUANTITY,
                                    help_text="One serial number per unit for a serial-tracked part; none otherwise.")
    location = ScopedPrimaryKeyField(queryset=Location.objects.all(), required=False, allow_null=True, default=None,
                                     help_text="Where the units come from (stock location id); your own van when "
                                               "left out.")

    def to_internal_value(self, data):
        fields = super().to_internal_value(data)
        return part_lines.PartLine(part=fields["part"], quantity=fields["quantity"], serials=tuple(fields["serials"]),
                                   location=fields["location"])


class PartLinesField(serializers.ListField):
    """The part lines: a JSON array in a JSON body; in a multipart/form-data body (with screenshots), the same array
    as JSON text in one `parts` value."""

    def __init__(self, **kwargs):
        super().__init__(child=PartLineIn(), max_length=part_lines.MAX_LINES, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = self.parsed(data)
        elif isinstance(data, list) and len(data) == 1 and isinstance(data[0], str):  # a form's one value
            data = self.parsed(data[0])
        return super().to_internal_value(data)

    def parsed(self, text: str):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise serializers.ValidationError(_("Give the part lines as a JSON array.")) from None
        if not isinstance(value, list) or depth_exceeds(value, 4):
            raise serializers.ValidationError(_("Give the part lines as a JSON array."))
        return value


class WorkOrderIn(VersionIn):
    actions = serializers.CharField()
    parts_used = serializers.CharField(required=False, allow_blank=True, default="",
                                       help_text="The parts note: what was used that is not in the catalogue.")
    parts = PartLinesField(required=False, default=list,
                           help_text="Catalogue parts used, each taken out of its location's stock with the work "
                                     "order (all or nothing: a line out of stock is a 409 `out_of_stock` and nothing "
                                     "is written).")
    minutes_spent = serializers.IntegerField(min_value=0, max_value=100000)
    result = serializers.ChoiceField(choices=WorkResult.choices)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class PartLineOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The ledger's movement.")
    part = serializers.IntegerField(source="part_id")
    part_name = serializers.CharField(source="part.name")
    part_number = serializers.CharField(source="part.part_number")
    quantity = serializers.IntegerField()
    serials = serializers.ListField(child=serializers.CharField())
    location = serializers.IntegerField(source="location_id")
    location_name = serializers.CharField(source="location.name")
    at = serializers.DateTimeField()
    corrected = serializers.BooleanField(default=False, help_text="Reversed in the ledger since.")


class WorkOrderOut(serializers.ModelSerializer):
    parts_used = serializers.CharField(read_only=True, help_text="The parts note: what is not in the catalogue.")
    parts = serializers.SerializerMethodField()
    charge_sheet = serializers.SerializerMethodField(help_text="CUS-5: what the customer pays, and why.")

    class Meta:
        model = WorkOrder
        fields = ["id", "request", "engineer", "actions", "parts_used", "parts", "minutes_spent", "result", "state",
                  "confirmed_at", "signer_name", "confirmed_via", "satisfaction", "customer_comment",
                  "rejection_reason", "charge_sheet", "version"]

    @extend_schema_field(ChargeSheetOut(allow_null=True))
    def get_charge_sheet(self, work_order) -> dict | None:
        return sheet_out(sheet_of(work_order, "work_order"), self.context)

    @extend_schema_field(PartLineOut(many=True))
    def get_parts(self, work_order) -> list:
        lines = getattr(work_order, "part_lines", None)
        if lines is None:  # one work order answered alone; a list attaches the lines of its page at once
            lines = part_lines.attach([work_order])[0].part_lines
        return PartLineOut(lines, many=True).data


class ConfirmIn(VersionIn):
    satisfaction = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    signer_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    signature = serializers.FileField(required=False)


class RejectIn(VersionIn):
    reason = serializers.CharField()


class SuggestionOut(serializers.Serializer):
    engineer = serializers.IntegerField(source="engineer.pk")
    name = serializers.CharField(source="engineer.display_name")
    on_duty = serializers.BooleanField()
    specialty_match = serializers.BooleanField()
    distance_km = serializers.FloatField(allow_null=True)
    load = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class AttachmentsIn(serializers.Serializer):
    files = UploadsField(min_length=1)


class AttachmentOut(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "uploaded_at"]


class ServiceRequestViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            viewsets.GenericViewSet):
    """SRQ-1..10. Lists are scoped; another customer's request is a 404."""

    queryset = ServiceRequest.objects.all()  # always narrowed by get_queryset()
    filterset_class = RequestFilter
    permission_classes = [VerbPermissions]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    search_fields = []
    ordering_fields = ["created_at", "next_due_at", "priority"]

    def get_queryset(self):
        return visible(ServiceRequest.objects.order_by("-pk"), self.request.user)


    def get_serializer_class(self):
        return RequestOut if self.action == "retrieve" else RequestListOut

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    def _request(self):
        return get_visible_or_404(ServiceRequest.objects.select_related("project"), self.request.user, pk=self.kwargs["pk"])

    def _out(self, request_obj, status=200):
        return Response(request_out(request_obj.pk), status=status)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset()).values(*RequestListOut.Meta.fields)
        return self.get_paginated_response(api_rows(self.paginate_queryset(queryset)))

    def retrieve(self, request, *args, **kwargs):
        # No filter backends on a retrieve: the list's filters have nothing to say about one request.
        return Response(request_out(self.kwargs["pk"], request.user))

    @extend_schema(request=OpenRequestIn, responses={201: RequestOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        require_perm(request, "service.add_servicerequest")
        data = OpenRequestIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.setdefault("channel", Channel.PORTAL if request.user.customer_id else Channel.PHONE)
        fields["uploads"] = fields.pop("attachments", [])
        created = verbs.open_request(by=request.user, **fields)
        # Answered from what the verb wrote, formatted as request_out() formats what it reads.
        out = api_row({name: created.serializable_value(name) for name in _REQUEST_FIELDS})
        out["devices"] = [device.pk for device in created.written.devices]
        out["targets"] = api_rows({name: getattr(t, name) for name in TargetOut.Meta.fields}
                                  for t in created.written.targets)
        out["events"] = [{"id": e.pk, "kind": e.kind, "at": api_value(e.at), "text": e.text, "data": e.data,
                          "actor": e.actor.display_name if e.actor else None} for e in created.written.events]
        return Response({name: out[name] for name in RequestOut.Meta.fields}, status=201)

    @extend_schema(parameters=QUEUE_PARAMETERS, responses={200: RequestListOut(many=True), 400: ErrorOut})
    @action(detail=False, methods=["get"], filter_backends=[])
    def queue(self, request):
        """The desk queue: open requests, most urgent first (next due time)."""
        queryset = selectors.CompiledQueue(request.user, queue_filters(request.query_params),
                                           fields=RequestListOut.Meta.fields)
        return self.get_paginated_response(api_rows(self.paginate_queryset(queryset)))

    @extend_schema(request=ReplyIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("reply"))
    def reply(self, request, pk=None):
        data = ReplyIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(verbs.reply(request=self._request(), by=request.user, **data.validated_data))

    @extend_schema(request=DispatchIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="dispatch")
    @requires(permission_of("dispatch"))
    def assign(self, request, pk=None):
        data = DispatchIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        return self._out(verbs.dispatch(request=self._request(), by=request.user, **data.validated_data))

    @extend_schema(responses={200: SuggestionOut(many=True), **ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None)  # a short ranked list, never paged
    @requires("service.handle_request")
    def suggestions(self, request, pk=None):
        """SRQ-6: engineers ranked by duty, specialty, distance and load, with the reasons."""
        return Response(SuggestionOut(dispatching.suggest(self._request(), at=clock.now()), many=True).data)

    @extend_schema(request=None, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("depart"))
    def depart(self, request, pk=None):
        return self._out(verbs.depart(request=self._request(), by=request.user))

    @extend_schema(request=ArriveIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("arrive"))
    def arrive(self, request, pk=None):
        """Arrival with proof: position (latitude/longitude/accuracy_m), a photo, or confirmed_by_customer."""
        data = ArriveIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        return self._out(verbs.arrive(request=self._request(), by=request.user, **fields))

    @extend_schema(request=None, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("leave"))
    def leave(self, request, pk=None):
        target = self._request()
        verbs.leave(request=target, by=request.user)
        return self._out(target)

    @extend_schema(request=ReasonIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("pause"))
    def pause(self, request, pk=None):
        """Stop the clock: time lost because of the owner, with the reason."""
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(verbs.pause(request=self._request(), by=request.user, **data.validated_data))

    @extend_schema(request=VersionIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("resume"))
    def resume(self, request, pk=None):
        data = VersionIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(verbs.resume(request=self._request(), by=request.user, **data.validated_data))

    @extend_schema(request=PriorityIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("change_priority"))
    def priority(self, request, pk=None):
        data = PriorityIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(verbs.change_priority(request=self._request(), by=request.user, **data.validated_data))

    @extend_schema(request=TextIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        data = TextIn(data=request.data)
        data.is_valid(raise_exception=True)
        target = self._request()
        verbs.comment(request=target, by=request.user, **data.validated_data)
        return self._out(target)

    @extend_schema(request=ContingencyIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("contingency"))
    def contingency(self, request, pk=None):
        """SRQ-5: record the contingency plan agreed with the user (e.g. a spare unit lent)."""
        data = ContingencyIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(verbs.record_contingency(request=self._request(), by=request.user,
                                                  version=data.validated_data["version"], plan=data.validated_data["text"]))

    @extend_schema(request=AdvisorIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("advisor"))
    def advisor(self, request, pk=None):
        """SRQ-9: hand a hard problem to the technical advisor pool."""
        data = AdvisorIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(verbs.hand_to_advisor(request=self._request(), by=request.user, **data.validated_data))

    @extend_schema(request=ReasonIn, responses={200: RequestOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("cancel"))
    def cancel(self, request, pk=None):
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(verbs.cancel(request=self._request(), by=request.user, **data.validated_data))

    @extend_schema(request=WorkOrderIn, responses={201: WorkOrderOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="work-orders")
    @requires(permission_of("work_order"))
    def work_order(self, request, pk=None):
        """SRQ-7: submit the work order; screenshots are required when the problem is not solved."""
        data = WorkOrderIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        work_order = verbs.submit_work_order(request=self._request(), by=request.user, uploads=fields.pop("attachments"),
                                             **fields)
        return Response(WorkOrderOut(work_order, context={"request": request}).data, status=201)

    @extend_schema(methods=["GET"], responses={200: AttachmentOut(many=True)})
    @extend_schema(methods=["POST"], request={"multipart/form-data": AttachmentsIn}, responses={201: AttachmentOut(many=True), **ERRORS})
    @action(detail=True, methods=["get", "post"], pagination_class=None)  # all of them, never paged
    def attachments(self, request, pk=None):
        """Screenshots, photos and logs: type sniffed from the content, size-limited, downloaded only through
        the scoped page."""
        target = self._request()
        if request.method == "POST":
            data = AttachmentsIn(data=request.data)
            data.is_valid(raise_exception=True)
            stored = verbs.add_attachments(request=target, by=request.user, uploads=data.validated_data["files"])
            return Response(AttachmentOut(stored, many=True).data, status=201)
        return Response(AttachmentOut(target.attachments.all(), many=True).data)


class WorkOrderViewSet(AuditActorMixin, viewsets.ReadOnlyModelViewSet):
    queryset = WorkOrder.objects.all()  # always narrowed by get_queryset()
    serializer_class = WorkOrderOut
    filterset_fields = ["request", "state"]
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        return visible(WorkOrder.objects.order_by("-pk"), self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WorkOrderOut(part_lines.attach(page), many=True,
                                                        context=self.get_serializer_context()).data)

    @extend_schema(request=ConfirmIn, responses={200: WorkOrderOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("confirm"))
    def confirm(self, request, pk=None):
        data = ConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        work_order = verbs.confirm_work_order(work_order=self.get_object(), by=request.user, via="portal", **data.validated_data)
        return Response(WorkOrderOut(work_order, context={"request": request}).data)

    @extend_schema(request=ExceptionIn, responses={200: WorkOrderOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires("billing.approve_exception")
    def exception(self, request, pk=None):
        """CUS-5: a manager's exception to the billing rule on this work order's charge sheet, while the customer has
        not answered: a line of its own with its reason and the approver; the total never below zero."""
        data = ExceptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        work_order = self.get_object()
        billing_services.add_exception(work_order=work_order, by=request.user, **data.validated_data)
        return Response(WorkOrderOut(work_order, context={"request": request}).data)

    @extend_schema(request=RejectIn, responses={200: WorkOrderOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("confirm"))
    def reject(self, request, pk=None):
        data = RejectIn(data=request.data)
        data.is_valid(raise_exception=True)
        work_order = verbs.reject_work_order(work_order=self.get_object(), by=request.user, via="portal", **data.validated_data)
        return Response(WorkOrderOut(work_order, context={"request": request}).data)


class IncidentReportOut(serializers.ModelSerializer):
    class Meta:
        model = IncidentReport
        fields = ["id", "request", "author", "cause", "impact", "timeline", "fix", "prevention", "state", "submitted_at",
                  "confirmed_at", "confirmed_by", "rejection_reason", "version"]


class IncidentReportIn(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=2**31 - 1,
                                       help_text="The report's version you saw; none for the first draft.")
    request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all())
    cause = serializers.CharField()
    impact = serializers.CharField()
    timeline = serializers.CharField()
    fix = serializers.CharField()
    prevention = serializers.CharField()


class AnswerIn(VersionIn):
    accept = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class IncidentReportViewSet(AuditActorMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """SRQ-8: incident reports (事故报告) for faults, submitted to and confirmed by the customer."""

    queryset = IncidentReport.objects.all()  # always narrowed by get_queryset()
    serializer_class = IncidentReportOut
    filterset_fields = ["request", "state"]
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        reports = visible(IncidentReport.objects.order_by("-pk"), self.request.user)
        if self.request.user.customer_id:  # a customer sees a report once it is submitted to them
            reports = reports.exclude(state=WorkOrderState.DRAFT)
        return reports

    @extend_schema(request=IncidentReportIn, responses={201: IncidentReportOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Write the draft, or revise a draft or a rejected report (pass its `version`)."""
        require_perm(request, "service.add_incidentreport")
        data = IncidentReportIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        report = verbs.save_incident_report(request=fields.pop("request"), by=request.user, **fields)
        return Response(IncidentReportOut(report).data, status=201)

    @extend_schema(request=VersionIn, responses={200: IncidentReportOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("submit_incident"))
    def submit(self, request, pk=None):
        data = VersionIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(IncidentReportOut(verbs.submit_incident_report(report=self.get_object(), by=request.user,
                                                                          **data.validated_data)).data)

    @extend_schema(request=AnswerIn, responses={200: IncidentReportOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(permission_of("answer_incident"))
    def answer(self, request, pk=None):
        """The customer confirms (`accept: true`) or rejects with a `reason`."""
        data = AnswerIn(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(IncidentReportOut(verbs.answer_incident_report(report=self.get_object(), by=request.user,
                                                                          via="portal", **data.validated_data)).data)


def register(router) -> None:
    router.register("requests", ServiceRequestViewSet, basename="servicerequest")
    router.register("work-orders", WorkOrderViewSet, basename="workorder")
    router.register("incident-reports", IncidentReportViewSet, basename="incidentreport")
