"""Canned replies over the API (issue 25 §7), staff only. `GET /api/canned-replies/` lists the replies a user sees;
with `?request=<id>` only those offered for that request (its branch's and the all-branch ones, active), each with
`text`, the body expanded for it. Another branch's request is a 404."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from aftersales.core.api_base import ErrorOut
from aftersales.core.api_settings import VerbPermissions
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404, is_staff_member
from aftersales.service.models import ServiceRequest

from . import selectors
from .models import CannedReply
from .placeholders import needs_targets, render, values_for


class CannedReplyOut(serializers.ModelSerializer):
    text = serializers.SerializerMethodField(help_text="With `?request=`: the body expanded for that request.")

    class Meta:
        model = CannedReply
        fields = ["id", "branch", "title", "body", "active", "used_count", "text"]

    def get_text(self, reply) -> str | None:
        request_obj, values = self.context.get("service_request"), self.context.get("values")
        return render(reply.body, request_obj, values=values) if request_obj is not None else None


class CannedReplyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = CannedReply.objects.all()  # always narrowed by get_queryset()
    serializer_class = CannedReplyOut
    permission_classes = [VerbPermissions]

    def service_request(self):
        if self.action != "list" or "request" not in self.request.query_params:
            return None
        pk = row_id(self.request.query_params["request"])
        if pk is None:
            raise serializers.ValidationError({"request": ["A request id."]})
        return get_visible_or_404(ServiceRequest.objects.select_related("project__customer", "assignee"),
                                  self.request.user, pk=pk)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not is_staff_member(request.user):
            raise PermissionDenied
        self.for_request = self.service_request()

    def get_queryset(self):
        if getattr(self, "for_request", None) is not None:
            return selectors.offered(self.request.user, self.for_request)
        return selectors.listed(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        request_obj = getattr(self, "for_request", None)
        if request_obj is not None:
            bodies = selectors.offered(self.request.user, request_obj).values_list("body", flat=True)
            context["service_request"] = request_obj
            context["values"] = values_for(request_obj, arrival=needs_targets(bodies))
        return context

    @extend_schema(parameters=[OpenApiParameter("request", OpenApiTypes.INT, description=(
        "A service request's id: only the replies offered for it, with `text` expanded."))],
        responses={200: CannedReplyOut(many=True), 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


def register(router) -> None:
    """The app's API routes on the project's router."""
    router.register("canned-replies", CannedReplyViewSet, basename="cannedreply")
