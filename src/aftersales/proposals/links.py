"""LOG-3/LOG-4: the signed, expiring, single-use links mailed to the customer's contacts to confirm a hidden-danger
report or to choose an option of a proposal (lessons.md #7: an opaque signed token, never a sequential id). Built
like the work order's and the incident report's links (service/confirmation.py), whose errors they answer with: the
token carries the row's version; any verb moves the version on, so a used link stops working (410), a tampered one is
not valid (404), an expired one 410, and someone logged in as another customer's contact is refused (403)."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.service.confirmation import (
    LinkExpired,
    LinkNotValid,
    LinkUsed,
    check_recipient,
)

from .models import HazardReport, HazardState, Proposal, ProposalState

VALID_FOR = timedelta(days=14)
HAZARD_SALT = "aftersales.proposals.confirm-hazard-report"
PROPOSAL_SALT = "aftersales.proposals.choose-proposal"


def _token(key: str, row, salt: str) -> str:
    return signing.dumps({key: row.pk, "v": row.version}, salt=salt, compress=True)


def _url(name: str, token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[token])


def hazard_token(report: HazardReport) -> str:
    return _token("hr", report, HAZARD_SALT)


def hazard_url(report: HazardReport) -> str:
    return _url("proposals:hazard_by_link", hazard_token(report))


def proposal_token(proposal: Proposal) -> str:
    return _token("pp", proposal, PROPOSAL_SALT)


def proposal_url(proposal: Proposal) -> str:
    return _url("proposals:proposal_by_link", proposal_token(proposal))


def _payload(token: str, salt: str, key: str) -> dict:
    try:
        payload = signing.loads(token, salt=salt, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise LinkExpired(_("This link has expired. Please answer in the customer portal, or ask us for a new "
                            "link.")) from None
    except signing.BadSignature:
        raise LinkNotValid(_("This link is not valid.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get(key), int):
        raise LinkNotValid(_("This link is not valid."))
    return payload


def hazard_for_token(token: str, user) -> HazardReport:
    """The report awaiting confirmation the token was mailed for, or why it cannot be used (LinkNotValid 404,
    LinkExpired and LinkUsed 410, LinkOfAnotherCustomer 403)."""
    payload = _payload(token, HAZARD_SALT, "hr")
    report = (HazardReport.objects.select_related("project", "customer", "service_request", "inspection_round")
              .prefetch_related("devices").filter(pk=payload["hr"]).first())
    if report is None:
        raise LinkNotValid(_("This link is not valid."))
    if report.version != payload.get("v") or report.state != HazardState.AWAITING:
        raise LinkUsed(_("This link has already been used or was replaced by a newer one."))
    check_recipient(user, report.customer_id)
    return report


def proposal_for_token(token: str, user) -> Proposal:
    """The sent proposal the token was mailed for, or why it cannot be used (as hazard_for_token)."""
    payload = _payload(token, PROPOSAL_SALT, "pp")
    proposal = (Proposal.objects.select_related("project", "customer").prefetch_related("options")
                .filter(pk=payload["pp"]).first())
    if proposal is None:
        raise LinkNotValid(_("This link is not valid."))
    if proposal.version != payload.get("v") or proposal.state != ProposalState.SENT:
        raise LinkUsed(_("This link has already been used or was replaced by a newer one."))
    check_recipient(user, proposal.customer_id)
    return proposal
