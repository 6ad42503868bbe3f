"""RPT-2: the printable forms as PDF. Each view is thin: it loads its record through the form's module (scoped: another
customer's record is a 404, exactly like a missing one; the same permission as the record's own page), states the
facts in Chinese, and answers the PDF inline with the facts' hash as its ETag (the same record, the same hash: a
browser that has it gets a 304). Without WeasyPrint's system libraries the answer is a 503 that says so, never a 500."""

from urllib.parse import quote

from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View

from aftersales.core.views import ScopedMixin
from aftersales.customers.models import Project
from aftersales.inspections.models import InspectionRound
from aftersales.repairs.models import RepairCase
from aftersales.service.models import IncidentReport, WorkOrder
from aftersales.training.models import TrainingSession
from aftersales.visits.models import Survey

from . import pdf
from .documents import (
    charge_sheet,
    incident_report,
    inspection_report,
    label_sheet,
    staff_roster,
    survey,
    training_feedback,
    work_order,
)

FORM_LANGUAGE = "zh-hans"  # the paper each form replaces is Chinese, whatever the language of the screen


def facts_and_context(document, record, user) -> tuple[dict, dict]:
    with translation.override(FORM_LANGUAGE):
        return document.facts(record, user), document.context(record, user)


class PrintForm(ScopedMixin, View):
    """GET: the form of one record as a PDF. `document` is the form's module (printing/documents/)."""

    document = None

    def load(self, request, pk):
        return self.document.load(request.user, pk)

    def get(self, request, pk):
        record = self.load(request, pk)
        facts, context = facts_and_context(self.document, record, request.user)
        etag = f'"{pdf.digest_of(facts)}"'
        if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
            response = HttpResponseNotModified()
            response["ETag"] = etag
            return response
        try:
            rendered = pdf.render(self.document.TEMPLATE, context, facts=facts, filename=self.document.filename(record))
        except pdf.RendererUnavailable:
            return unavailable(request)
        return pdf_response(rendered)


def pdf_response(rendered: pdf.Pdf) -> HttpResponse:
    response = HttpResponse(rendered.content, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(rendered.filename)}"
    response["ETag"] = f'"{rendered.digest}"'
    response["Cache-Control"] = "private, no-cache"  # scoped content: never in a shared cache; revalidate by ETag
    response["X-Content-Type-Options"] = "nosniff"
    return response


def unavailable(request) -> HttpResponse:
    response = render(request, "printing/unavailable.html", {
        "title": _("PDF printing is not available on this server"),
        "detail": _("The PDF engine (WeasyPrint) cannot find its system libraries (Pango). An administrator installs "
                    "them (Debian: libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0) and restarts the service. "
                    "The page of the record can still be printed from the browser."),
    }, status=503)
    response["Retry-After"] = "3600"
    return response


class WorkOrderPdf(PrintForm):
    model, permission_required, document = WorkOrder, work_order.PERMISSION, work_order


class IncidentReportPdf(PrintForm):
    model, permission_required, document = IncidentReport, incident_report.PERMISSION, incident_report


class InspectionReportPdf(PrintForm):
    model, permission_required, document = InspectionRound, inspection_report.PERMISSION, inspection_report


class SurveyPdf(PrintForm):
    model, permission_required, document = Survey, survey.PERMISSION, survey


class TrainingFeedbackPdf(PrintForm):
    model, permission_required, document = TrainingSession, training_feedback.PERMISSION, training_feedback


class StaffRosterPdf(PrintForm):
    model, permission_required, document = Project, staff_roster.PERMISSION, staff_roster


class WorkOrderChargeSheetPdf(PrintForm):
    model, permission_required, document = WorkOrder, charge_sheet.WORK_ORDER_PERMISSION, charge_sheet

    def load(self, request, pk):
        try:
            sheet = charge_sheet.load_for_work_order(request.user, pk)
        except charge_sheet.NoSheet:
            raise Http404 from None
        sheet.customer_copy = request.GET.get("copy") == "customer"  # staff print what the customer is given
        return sheet


class RepairChargeSheetPdf(PrintForm):
    model, permission_required, document = RepairCase, charge_sheet.REPAIR_PERMISSION, charge_sheet

    def load(self, request, pk):
        try:
            sheet = charge_sheet.load_for_repair(request.user, pk)
        except charge_sheet.NoSheet:
            raise Http404 from None
        sheet.customer_copy = request.GET.get("copy") == "customer"
        return sheet


class LabelSheetPdf(PrintForm):
    model, permission_required, document = Project, label_sheet.PERMISSION, label_sheet

    def load(self, request, pk):
        return label_sheet.load(request.user, pk, category=request.GET.get("category", ""),
                                layout=request.GET.get("layout", ""))

