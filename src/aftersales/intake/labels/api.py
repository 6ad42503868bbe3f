"""The desk's API for label reports (issue 11, point 4): open requests from public device labels whose reporter
is not verified yet, and confirming the reporter. The same rules as the triage page (`mail.views`), through
`reports`; the permission is the page's, service.handle_request; a report the caller may not see, already
verified or closed, is a 404."""

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.assets.models import Device
from aftersales.core.api_base import AuditActorMixin, requires
from aftersales.service.models import ServiceRequest

from ..api_base import DESK_PERM, HANDLED, LIST_ERRORS, NO_INPUT_ERRORS, PagePermission, RequestRefOut, request_ref
from . import reports


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
        return (reports.unverified_reports(self.request.user).select_related("project", "customer")
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
        target = reports.unverified_reports(request.user).filter(pk=pk).first()
        if target is None:  # as on the page: only a waiting report; a verified or closed one is not in the list
            raise Http404
        confirmed = reports.confirm_reporter(request=target, by=request.user)
        return Response({"detail": _("The reporter of %(number)s is confirmed.") % {"number": confirmed.number},
                         "request": request_ref(confirmed)})


def register(router) -> None:
    router.register("triage/unverified", UnverifiedReportViewSet, basename="triage-unverified")
