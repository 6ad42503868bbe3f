"""SRQ-8: 事故报告 — "问题和故障的处理，将编写单独的事故报告进行提交和确认": cause, impact, course of events, fix and
prevention, and the customer's confirmation (who, when, how: from the request's timeline), or an empty box to sign."""

from django.http import Http404

from aftersales.core.scoping import get_visible_or_404
from aftersales.service.models import (
    ConfirmedVia,
    EventKind,
    IncidentReport,
    Priority,
    TimelineEvent,
    WorkOrderState,
)

from .common import issuer, label, name_of, when

TEMPLATE = "printing/incident_report.html"
PERMISSION = "service.view_servicerequest"


def load(user, pk) -> IncidentReport:
    """Three queries: the report with its request and project, its affected devices, the confirmation's event."""
    report = get_visible_or_404(
        IncidentReport.objects.select_related("request__project__customer", "request__project__branch", "author",
                                              "confirmed_by"), user, pk=pk)
    if user.customer_id and report.state == WorkOrderState.DRAFT:
        raise Http404  # the customer sees the report once it is submitted to them, as on the request's page
    report.devices = list(report.request.devices.order_by("pk"))
    report.answer = None
    if report.state == WorkOrderState.CONFIRMED:
        report.answer = (TimelineEvent.objects.filter(request_id=report.request_id, kind=EventKind.INCIDENT_REPORT,
                                                      data__report=report.pk, data__step="confirmed")
                         .order_by("-at", "-pk").first())
    return report


def filename(report) -> str:
    return f"事故报告-{report.request.number}.pdf"


def facts(report, user) -> dict:
    request, project = report.request, report.request.project
    data = report.answer.data if report.answer is not None else {}
    confirmed = report.state == WorkOrderState.CONFIRMED
    return {
        "form": "incident_report",
        "issuer": issuer(project.branch),
        "number": request.number,
        "customer": project.customer.name,
        "project": project.name,
        "contract_number": project.contract_number,
        "site_address": project.site_address,
        "title": request.title,
        "priority": label(Priority, request.priority),
        "received_at": when(request.created_at),
        "resolved_at": when(request.resolved_at),
        "devices": [f"{d.name} {d.model} {d.serial_number}".strip() for d in report.devices],
        "author": name_of(report.author),
        "submitted_at": when(report.submitted_at),
        "cause": report.cause,
        "impact": report.impact,
        "timeline": report.timeline,
        "fix": report.fix,
        "prevention": report.prevention,
        "state": label(WorkOrderState, report.state),
        "confirmation": {
            "confirmed": confirmed,
            "signer": (data.get("signer") or name_of(report.confirmed_by)) if confirmed else "",
            "at": when(report.confirmed_at),
            "via": label(ConfirmedVia, data.get("via", "")),
            "rejection_reason": report.rejection_reason if report.state == WorkOrderState.REJECTED else "",
        },
    }


def context(report, user) -> dict:
    return {}
