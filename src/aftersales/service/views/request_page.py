"""The request page (SRQ-2..10): the request with its timeline, targets, visits, work orders and incident report, and
a panel for each action the user may take now; and the scoped download of its files."""

from django.http import FileResponse, Http404
from django.views import View

from aftersales.core import clock
from aftersales.core.scoping import get_visible_or_404
from aftersales.core.views import ScopedDetailView, ScopedMixin

from .. import actions as rules
from .. import part_lines, selectors
from ..actions import incident_report_of
from ..models import Attachment, ServiceRequest, WorkOrderState
from ..verbs.field import FAR_FROM_SITE_M
from .field_actions import Arrive, ConfirmInPortal, Depart, Leave, RateWorkOrder, SignOnScreen, SubmitWorkOrder
from .incident_actions import AnswerIncidentReport, SubmitIncidentReport, WriteIncidentReport
from .request_actions import (
    AddAttachments, Cancel, ChangePriority, Comment, Contingency, Dispatch, HandToAdvisor, Pause, Reply, Resume,
)

# Every action's page (service:<name>), in the order the request page shows the panels of those allowed now.
ACTION_VIEWS = [Reply, Dispatch, Depart, Arrive, SubmitWorkOrder, SignOnScreen, Leave, ConfirmInPortal, RateWorkOrder,
                AnswerIncidentReport, Resume, ChangePriority, Pause, Contingency, HandToAdvisor, SubmitIncidentReport,
                WriteIncidentReport, Comment, AddAttachments, Cancel]


class RequestDetail(ScopedDetailView):
    """The request with its timeline, targets, visits, work orders and the actions the user may take now."""

    model = ServiceRequest
    permission_required = "service.view_servicerequest"
    template_name = "service/request_detail.html"

    def get_object(self, queryset=None):
        return selectors.request_with_timeline(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(page_context(self.request, self.object))
        return context


def page_context(http_request, request_obj) -> dict:
    user = http_request.user
    now = clock.now()
    work_orders = part_lines.attach(request_obj.work_orders.all())  # the same objects the panels read
    files = list(request_obj.attachments.all())
    for work_order in work_orders:
        work_order.files = [a for a in files if a.work_order_id == work_order.pk]
    allowed = rules.allowed_actions(user, request_obj)
    panels = [view.panel(http_request, request_obj, available=True) for view in ACTION_VIEWS if view.action in allowed]
    report = incident_report_of(request_obj)
    if report is not None and user.customer_id and report.state == WorkOrderState.DRAFT:
        report = None  # the customer sees the report once it is submitted to them
    return {
        "now": now, "is_customer": bool(user.customer_id), "work_orders": work_orders, "incident_report": report,
        "request_files": [a for a in files if a.work_order_id is None], "actions": panels,
        "visits": list(request_obj.visits.all()), "targets": list(request_obj.targets.all()),
        "far_m": FAR_FROM_SITE_M,
        "devices": list(request_obj.devices.all()),
    }


class AttachmentDownload(ScopedMixin, View):
    """The only way to an uploaded file: scoped, never a media URL (lessons.md #7)."""

    model = Attachment
    permission_required = "service.view_servicerequest"

    def get(self, request, pk):
        attachment = get_visible_or_404(Attachment.objects.all(), request.user, pk=pk)
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise Http404 from None
        inline = attachment.content_type.startswith("image/")
        response = FileResponse(handle, as_attachment=not inline, filename=attachment.original_name,
                                content_type=attachment.content_type)
        response["Content-Security-Policy"] = "sandbox"  # an uploaded file never runs as our page
        response["Cache-Control"] = "private, max-age=0"
        return response
