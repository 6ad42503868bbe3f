"""GET /api/reports/sla-compliance/: the SLA compliance summary (reports/figures.py: sla_compliance) over the API.

    ?month=2026-03          one local month (Asia/Shanghai, half-open); default: the current month
    ?year=2026              a whole local year instead
    ?customer=<id>          only that customer's requests (a customer's user always sees only its own)
"""

import re

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aftersales.core import clock
from aftersales.core.api_base import AuditActorMixin
from aftersales.core.plausible import implausible_year_message, plausible_year
from aftersales.core.rows import row_id

from aftersales.service.reports import Period

from . import figures

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
YEAR = re.compile(r"^(\d{4})$")


class CanViewRequests(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("service.view_servicerequest"))


class ComplianceRowOut(serializers.Serializer):
    target = serializers.CharField()
    priority = serializers.CharField()
    met = serializers.IntegerField(help_text="Met in time.")
    missed = serializers.IntegerField(help_text="Breached, or met after the due time.")
    n = serializers.IntegerField(help_text="Requests of the priority opened in the period.")
    undecided = serializers.IntegerField(help_text="Applicable and still running.")
    not_applicable = serializers.IntegerField(
        help_text="No such target on the request (no rule, an on-site target of a remote request), or cancelled "
                  "while it was running.")
    paused_seconds = serializers.IntegerField(help_text="Paused time of the requests the target applies to.")
    met_percent = serializers.FloatField(allow_null=True, help_text="met / (met + missed) × 100: of the decided targets.")
    median_minutes = serializers.FloatField(allow_null=True, help_text="Start to meeting, over every met target (late ones included).")
    p90_minutes = serializers.FloatField(allow_null=True, help_text="Nearest-rank 90th percentile of the same.")


@extend_schema_serializer(many=False)  # one summary object, although DRF names the route's action `list`
class ComplianceOut(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive.")
    basis = serializers.CharField()
    rows = ComplianceRowOut(many=True)


class ComplianceViewSet(AuditActorMixin, viewsets.ViewSet):
    permission_classes = [CanViewRequests]

    @extend_schema(
        parameters=[OpenApiParameter("month", str, description="YYYY-MM (local month)", pattern=r"^\d{4}-\d{2}$"),
                    OpenApiParameter("year", str, description="YYYY (local year; instead of month)",
                                     pattern=r"^\d{4}$"),
                    OpenApiParameter("customer", int)],
        responses={200: ComplianceOut},
    )
    def list(self, request):
        month, year, customer = (request.query_params.get(k, "").strip() for k in ("month", "year", "customer"))
        if month and year:
            raise ValidationError({"month": [_("Give a month or a year, not both.")]})
        if year:
            if not YEAR.match(year):
                raise ValidationError({"year": [_("Use YYYY.")]})
            if not plausible_year(int(year)):  # 9999 + 1 overflows a datetime: a 500 before
                raise ValidationError({"year": [implausible_year_message()]})
            period = Period.year(int(year))
        elif month:
            found = MONTH.match(month)
            if not found or not 1 <= int(found.group(2)) <= 12:
                raise ValidationError({"month": [_("Use YYYY-MM.")]})
            if not plausible_year(int(found.group(1))):
                raise ValidationError({"month": [implausible_year_message()]})
            period = Period.month(int(found.group(1)), int(found.group(2)))
        else:
            period = Period.containing(clock.today())
        customer_id = None
        if customer:
            customer_id = row_id(customer)
            if customer_id is None:
                raise ValidationError({"customer": [_("A customer id.")]})
        rows = figures.sla_compliance(request.user, figures.Filters(period=period, customer_id=customer_id))
        return Response({"start": period.start.isoformat(), "end": period.end.isoformat(),
                         "basis": "targets of the requests opened in the period", "rows": rows})


class CanViewReports(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(FIGURES_PERMISSION))


FIGURES_PERMISSION = "reports.view_reports"
FIGURE_NAMES = ["sla_compliance", "escalations", "satisfaction", "inspection_completion", "expiries",
                "failures_by_model", "warranty_costs"]


@extend_schema_serializer(many=False)  # one object, although DRF names the route's action `list`
class FiguresOut(serializers.Serializer):
    figure = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive.")
    result = serializers.JSONField(help_text="The figure as reports/figures.py computes it (see its docstrings).")


class FiguresViewSet(AuditActorMixin, viewsets.ViewSet):
    """GET /api/reports/figures/?figure=<name>&month=YYYY-MM (or date_from & date_to) & customer, project, branch,
    engineer, priority, device_model, within: one report figure (RPT-1), scoped like the report pages."""

    permission_classes = [CanViewReports]
    permission_required = FIGURES_PERMISSION  # read by the URL walk

    @extend_schema(
        parameters=[OpenApiParameter("figure", str, enum=FIGURE_NAMES),
                    OpenApiParameter("month", str, description="YYYY-MM (local month)", pattern=r"^\d{4}-\d{2}$"),
                    OpenApiParameter("date_from", str, description="YYYY-MM-DD, with date_to (inclusive)"),
                    OpenApiParameter("date_to", str), OpenApiParameter("customer", int),
                    OpenApiParameter("project", int), OpenApiParameter("branch", int),
                    OpenApiParameter("engineer", int), OpenApiParameter("priority", str),
                    OpenApiParameter("device_model", str), OpenApiParameter("within", int)],
        responses={200: FiguresOut},
    )
    def list(self, request):
        from aftersales.reports.report_views import ReportFilterForm

        name = request.query_params.get("figure", "sla_compliance").strip()
        # the same rule as the pages: a customer never sees our repair costs
        if name not in FIGURE_NAMES or (request.user.customer_id and name == "warranty_costs"):
            raise ValidationError({"figure": [_("Choose one of: %(names)s.") % {"names": ", ".join(FIGURE_NAMES)}]})
        form = ReportFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        filters = form.filters()
        if name == "expiries":
            result = figures.expiries(request.user, clock.today(), form.within_days(), filters)
        else:
            result = getattr(figures, name)(request.user, filters)
        return Response({"figure": name, "start": filters.period.start.isoformat(), "end": filters.period.end.isoformat(),
                         "result": result})


def register_reports(router) -> None:
    router.register("reports/sla-compliance", ComplianceViewSet, basename="sla-compliance")
    router.register("reports/figures", FiguresViewSet, basename="report-figures")
