"""LOG-1 API: `GET /api/history/?customer=<id>|project=<id>&kind=…&from=…&to=…&cursor=…&size=…` →
`{"results": [...], "next": url or null}`, newest first, the same pages as /history/ (keyset cursor). A customer or
project outside the caller's scope is a 404; bad input a 400 with code, detail and fields."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from aftersales.core.api_base import ROW_ID_MAX
from aftersales.core.rows import api_value
from aftersales.core.scoping import get_visible_or_404
from aftersales.customers.models import Customer, Project

from . import sources, timeline


class HistoryQuery(serializers.Serializer):
    customer = serializers.IntegerField(required=False, min_value=1, max_value=ROW_ID_MAX)
    project = serializers.IntegerField(required=False, min_value=1, max_value=ROW_ID_MAX)
    kind = serializers.ListField(child=serializers.ChoiceField(choices=sources.choices()), required=False)
    cursor = serializers.CharField(required=False, max_length=500)
    size = serializers.IntegerField(required=False, min_value=1, max_value=timeline.MAX_SIZE, default=50)

    def get_fields(self):
        fields = super().get_fields()  # "from" and "to": a period of local days, both included
        fields["from"] = serializers.DateField(required=False)
        fields["to"] = serializers.DateField(required=False)
        return fields

    def validate(self, data):
        if ("customer" in data) == ("project" in data):
            raise serializers.ValidationError({"customer": [_("Give either a customer or a project.")]})
        if data.get("from") and data.get("to") and data["to"] < data["from"]:
            raise serializers.ValidationError({"to": [_("The end of the period is before its start.")]})
        return data


class HistoryEventOut(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    text = serializers.CharField()


class HistoryEntryOut(serializers.Serializer):
    kind = serializers.CharField(help_text="The kind's slug")
    kind_label = serializers.CharField()
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    title = serializers.CharField()
    state = serializers.CharField()
    actor = serializers.CharField()
    summary = serializers.CharField()
    url = serializers.CharField()
    events = HistoryEventOut(many=True, help_text="A request's first timeline events (at most 20), oldest first")
    more_events = serializers.IntegerField(help_text="How many more events the request has (GET its timeline)")


@extend_schema_serializer(many=False)  # one page object, although DRF names the route's action `list`
class HistoryPageOut(serializers.Serializer):
    results = HistoryEntryOut(many=True)
    next = serializers.CharField(allow_null=True)


class HistoryViewSet(viewsets.ViewSet):
    """The customer's or the project's history (LOG-1)."""

    queryset = Customer.objects.none()  # read needs customers.view_customer (ModelPermissions)

    @extend_schema(parameters=[HistoryQuery, OpenApiParameter("from", OpenApiTypes.DATE, description="First local day"),
                               OpenApiParameter("to", OpenApiTypes.DATE, description="Last local day (included)")],
                   responses={200: HistoryPageOut})
    def list(self, request):
        query = HistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data, user, zone = query.validated_data, request.user, timezone.get_current_timezone()
        if "project" in data:
            if not user.has_perm("customers.view_project"):
                raise PermissionDenied()
            project = get_visible_or_404(Project.objects.all(), user, pk=data["project"])
            where = {"project": project.pk, "customer": project.customer_id}  # the customer: its (customer, time) index
        else:
            where = {"customer": get_visible_or_404(Customer.objects.all(), user, pk=data["customer"]).pk}
        start = datetime.combine(data["from"], time.min, tzinfo=zone) if data.get("from") else None
        end = datetime.combine(data["to"] + timedelta(days=1), time.min, tzinfo=zone) if data.get("to") else None
        page = timeline.page(user, kinds=data.get("kind") or None, start=start, end=end,
                             cursor=data.get("cursor"), size=data["size"], **where)
        following = None
        if page.next_cursor:
            params = request.query_params.copy()
            params["cursor"] = page.next_cursor
            following = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"results": [_entry(entry) for entry in page.entries], "next": following})


def _entry(entry) -> dict:
    return {"kind": entry.kind.slug, "kind_label": str(entry.kind.label), "id": entry.id, "at": api_value(entry.at),
            "title": entry.title, "state": entry.state, "actor": entry.actor, "summary": entry.summary,
            "url": entry.url, "events": [{**event, "at": api_value(event["at"])} for event in entry.events],
            "more_events": entry.more_events}


def register(router) -> None:
    """The app's API routes on the project's router."""
    router.register("history", HistoryViewSet, basename="history")
