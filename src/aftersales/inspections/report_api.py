"""Findings (INS-4) and the inspection report (INS-5) over the API, as actions of /api/inspection-rounds/{id}/:

- GET `report/`: the report (null until issued) and the round's findings with what became of them;
- POST `handle-finding/` {finding, action: request | repair | dismiss, version, reason}: one action on one finding
  (a stale version or a finding handled already is a 409; another round's finding a 400 naming the field);
- POST `issue-report/` {evaluation, suggestions, version}: our side sends the report to the customer;
- POST `confirm-report/` (multipart) {version, signer_name, comment, signature: a PNG}: a customer's user confirms in
  the portal; our staff record a signature drawn on their screen by the customer's person."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from aftersales.core.api_base import ErrorOut, requires
from aftersales.core.api_settings import JSONParser
from aftersales.core.errors import DomainError

from . import findings, reports, selectors
from .models import Finding, InspectionReport, ReportSignedVia

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
VERSION = {"min_value": 1, "max_value": 2**31 - 1, "help_text": "The version you saw; a stale one is a 409."}


class FindingOut(serializers.ModelSerializer):
    device_name = serializers.CharField(source="device.name", read_only=True)
    item_label = serializers.CharField(source="item.label", read_only=True)
    reading = serializers.DecimalField(source="answer.reading", max_digits=12, decimal_places=3, read_only=True)
    passed = serializers.BooleanField(source="answer.passed", read_only=True, allow_null=True)
    note = serializers.CharField(source="answer.note", read_only=True)
    service_request_number = serializers.CharField(source="service_request.number", default=None, read_only=True)
    repair_case_number = serializers.CharField(source="repair_case.number", default=None, read_only=True)

    class Meta:
        model = Finding
        fields = ["id", "round", "device", "device_name", "item", "item_label", "answer", "reading", "passed", "note",
                  "found_at", "received_at", "state", "service_request", "service_request_number", "repair_case",
                  "repair_case_number", "dismissed_reason", "automatic", "handled_at", "version"]


class ReportOut(serializers.ModelSerializer):
    class Meta:
        model = InspectionReport
        fields = ["id", "round", "state", "evaluation", "suggestions", "issued_at", "signer_name", "comment",
                  "signed_via", "confirmed_at", "version"]


class RoundReportOut(serializers.Serializer):
    report = ReportOut(allow_null=True)
    findings = FindingOut(many=True)


class HandleFindingIn(serializers.Serializer):
    finding = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    action = serializers.ChoiceField(choices=sorted(findings.ACTIONS))
    version = serializers.IntegerField(**VERSION)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class IssueReportIn(serializers.Serializer):
    evaluation = serializers.CharField(max_length=8000)
    suggestions = serializers.CharField(required=False, allow_blank=True, default="", max_length=8000)
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                       max_value=2**31 - 1, help_text="The report's version, when issuing again.")


class ConfirmReportIn(serializers.Serializer):
    version = serializers.IntegerField(**VERSION)
    signer_name = serializers.CharField(max_length=100)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    signature = serializers.FileField(required=False, allow_null=True, default=None,
                                      help_text="Required: the signature drawn on screen, a PNG of at most 1 MB.")


class ReportActions:
    """Mixed into RoundViewSet (api.py): `get_round()` is its scoped round."""

    def round_report(self, round_) -> dict:
        report = InspectionReport.objects.filter(round_id=round_.pk).first()
        return RoundReportOut({"report": report, "findings": selectors.findings_of(round_)}).data

    @extend_schema(responses={200: RoundReportOut, 404: ErrorOut})
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """The round's report (null until issued) and its findings with what became of them."""
        return Response(self.round_report(self.get_round()))

    @extend_schema(request=HandleFindingIn, responses={200: FindingOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="handle-finding", url_name="handle-finding")
    @requires("inspections.handle_findings")
    def handle_finding(self, request, pk=None):
        """One action on one finding of the round: `request` (a service request, or the device's open one),
        `repair` (a repair case) or `dismiss` (with a `reason`)."""
        round_ = self.get_round()
        data = HandleFindingIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        needed = {"request": "service.add_servicerequest", "repair": "repairs.work_repair"}.get(values["action"])
        if request.user.customer_id or (needed and not request.user.has_perm(needed)):
            raise PermissionDenied
        finding = Finding.objects.filter(round_id=round_.pk, pk=values["finding"]).first()
        if finding is None:
            raise DomainError(_("This finding is not part of the round."), field="finding")
        extra = {"reason": values["reason"]} if values["action"] == "dismiss" else {}
        done = findings.ACTIONS[values["action"]](finding=finding, by=request.user, version=values["version"], **extra)
        return Response(FindingOut(Finding.objects.select_related("device", "item", "answer", "service_request",
                                                                  "repair_case").get(pk=done.pk)).data)

    @extend_schema(request=IssueReportIn, responses={200: RoundReportOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="issue-report", url_name="issue-report")
    @requires("inspections.handle_findings")
    def issue_report(self, request, pk=None):
        """Send the report of a done round to the customer (again while it waits: `version`, a new link)."""
        round_ = self.get_round()
        data = IssueReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        reports.issue_report(round=round_, by=request.user, **data.validated_data)
        return Response(self.round_report(round_))

    @extend_schema(request={"multipart/form-data": ConfirmReportIn}, responses={200: RoundReportOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="confirm-report", url_name="confirm-report",
            parser_classes=[MultiPartParser, FormParser, JSONParser])
    @requires("inspections.view_inspectionround")
    def confirm_report(self, request, pk=None):
        """The customer confirms the report with a signature: a customer's user in the portal, or our staff record
        the signature drawn on their screen by the customer's person."""
        round_ = self.get_round()
        user = request.user
        if user.customer_id:
            who = {"via": ReportSignedVia.PORTAL, "by": user}
        elif user.has_perm("inspections.handle_findings"):
            who = {"via": ReportSignedVia.SCREEN, "on_screen_of": user}
        else:
            raise PermissionDenied
        data = ConfirmReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = InspectionReport.objects.filter(round_id=round_.pk).first()
        if report is None:
            raise DomainError(_("The report has not been issued yet."))
        reports.confirm_report(report=report, **who, **data.validated_data)
        return Response(self.round_report(round_))
