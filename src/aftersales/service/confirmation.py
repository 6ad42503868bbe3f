"""SRQ-7/8: signed, expiring, single-use confirmation links for mail notifications (lessons.md #7:
opaque signed tokens, never sequential ids). The token carries the work order's version; confirming
or rejecting bumps the version, so a used link stops working."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError

from .models import WorkOrder, WorkOrderState

SALT = "aftersales.service.confirm-work-order"
VALID_FOR = timedelta(days=7)


def confirmation_token(work_order: WorkOrder) -> str:
    return signing.dumps({"wo": work_order.pk, "v": work_order.version}, salt=SALT, compress=True)


def confirmation_url(work_order: WorkOrder) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("service:confirm_by_link", args=[confirmation_token(work_order)])


def work_order_for_token(token: str) -> WorkOrder:
    try:
        payload = signing.loads(token, salt=SALT, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise DomainError(_("This confirmation link has expired. Please confirm in the customer portal.")) from None
    except signing.BadSignature:
        raise DomainError(_("This confirmation link is not valid.")) from None
    work_order = WorkOrder.objects.select_related("request__project", "engineer").filter(pk=payload.get("wo")).first()
    if work_order is None or work_order.version != payload.get("v") or work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise DomainError(_("This confirmation link has already been used."))
    return work_order


INCIDENT_SALT = "aftersales.service.confirm-incident-report"


def incident_confirmation_token(report) -> str:
    return signing.dumps({"ir": report.pk, "v": report.version}, salt=INCIDENT_SALT, compress=True)


def incident_confirmation_url(report) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(report)])


def incident_report_for_token(token: str):
    from .models import IncidentReport

    try:
        payload = signing.loads(token, salt=INCIDENT_SALT, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise DomainError(_("This confirmation link has expired. Please confirm in the customer portal.")) from None
    except signing.BadSignature:
        raise DomainError(_("This confirmation link is not valid.")) from None
    report = IncidentReport.objects.select_related("request__project").filter(pk=payload.get("ir")).first()
    if report is None or report.version != payload.get("v") or report.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise DomainError(_("This confirmation link has already been used."))
    return report
