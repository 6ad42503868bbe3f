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

class LinkNotValid(DomainError):
    status = 404
    code = "link_not_valid"


class LinkExpired(DomainError):
    status = 410
    code = "link_expired"


class LinkUsed(DomainError):
    status = 410
    code = "link_used"


class LinkOfAnotherCustomer(DomainError):
    """Issue 21 §5: a link belongs to its recipient's customer. Someone logged in as another customer's contact
    (a forwarded mail, a shared computer) is refused rather than let act on a request that is not theirs."""

    status = 403
    code = "link_of_another_customer"


def check_recipient(user, customer_id: int) -> None:
    if user.is_authenticated and user.customer_id is not None and user.customer_id != customer_id:
        raise LinkOfAnotherCustomer(_("This link was sent to another customer. Log out, then open it again, "
                                      "or confirm in your own portal."))


def loads(token: str, salt: str) -> dict:
    try:
        return signing.loads(token, salt=salt, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise LinkExpired(_("This confirmation link has expired. Please confirm in the customer portal.")) from None
    except signing.BadSignature:
        raise LinkNotValid(_("This confirmation link is not valid.")) from None


SALT = "aftersales.service.confirm-work-order"
VALID_FOR = timedelta(days=7)


def confirmation_token(work_order: WorkOrder) -> str:
    return signing.dumps({"wo": work_order.pk, "v": work_order.version}, salt=SALT, compress=True)


def confirmation_url(work_order: WorkOrder) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("service:confirm_by_link", args=[confirmation_token(work_order)])


def work_order_for_token(token: str, user) -> WorkOrder:
    payload = loads(token, SALT)
    work_order = WorkOrder.objects.select_related("request__project", "engineer").filter(pk=payload.get("wo")).first()
    if work_order is None or work_order.version != payload.get("v") or work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise LinkUsed(_("This confirmation link has already been used."))
    check_recipient(user, work_order.request.customer_id)
    return work_order


INCIDENT_SALT = "aftersales.service.confirm-incident-report"


def incident_confirmation_token(report) -> str:
    return signing.dumps({"ir": report.pk, "v": report.version}, salt=INCIDENT_SALT, compress=True)


def incident_confirmation_url(report) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("service:confirm_incident_by_link", args=[incident_confirmation_token(report)])


def incident_report_for_token(token: str, user):
    from .models import IncidentReport

    payload = loads(token, INCIDENT_SALT)
    report = IncidentReport.objects.select_related("request__project").filter(pk=payload.get("ir")).first()
    if report is None or report.version != payload.get("v") or report.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise LinkUsed(_("This confirmation link has already been used."))
    check_recipient(user, report.request.customer_id)
    return report
