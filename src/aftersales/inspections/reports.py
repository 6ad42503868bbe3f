"""INS-5 (issue 23 §6): the inspection report of a done round — results per device, the evaluation and improvement
suggestions, the findings and what became of them, the approval (or its override, with the reason) and the phone's
and the server's times — and its confirmation by the customer by the same paths as a work order's: a signature drawn
on our engineer's screen, in the customer portal, or through the signed, expiring, single-use link of the mail (no
account; built like service/confirmation.py and training/links.py, whose errors it answers with: a tampered link is
not valid (404), an expired or used one 410, one opened as another customer's contact 403).

Issuing the report (again, while it waits) moves its version on, so an earlier link stops working; confirming it
too. Each verb is one transaction with its RoundEvent line and its outbox rows."""

from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.service.attachments import sniff
from aftersales.service.confirmation import (
    LinkExpired,
    LinkNotValid,
    LinkUsed,
    check_recipient,
)

from . import selectors
from .models import (
    EventKind,
    InspectionReport,
    ReportSignedVia,
    ReportState,
    RoundState,
)
from .services import claim_version, lock_round, record

EVENT = "inspection_report"
SALT = "aftersales.inspections.report"
VALID_FOR = timedelta(days=14)
SIGNATURE_MAX_BYTES = 1024 * 1024


# ------------------------------------------------------------------------------------------------ the signed link

def report_token(report: InspectionReport) -> str:
    return signing.dumps({"ir": report.pk, "v": report.version}, salt=SALT, compress=True)


def report_url(report: InspectionReport) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("inspections:report_by_link", args=[report_token(report)])


def report_for_token(token: str, user) -> InspectionReport:
    """The report waiting for the customer's confirmation that the token names, or why it cannot be used."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=VALID_FOR)
    except signing.SignatureExpired:
        raise LinkExpired(_("This confirmation link has expired. Please confirm in the customer portal.")) from None
    except signing.BadSignature:
        raise LinkNotValid(_("This confirmation link is not valid.")) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("ir"), int):
        raise LinkNotValid(_("This confirmation link is not valid."))
    report = InspectionReport.objects.select_related("round__plan", "round__project").filter(pk=payload["ir"]).first()
    if report is None:
        raise LinkNotValid(_("This confirmation link is not valid."))
    if report.version != payload.get("v") or report.state != ReportState.AWAITING:
        raise LinkUsed(_("This confirmation link has already been used."))
    check_recipient(user, report.customer_id)
    return report


# ------------------------------------------------------------------------------------------------ who hears

def customer_contacts(round_) -> list:
    from .findings import customer_contacts as contacts

    return contacts(round_)


def our_side(round_) -> list:
    from .approvals import our_side as staff

    return staff(round_)


# ------------------------------------------------------------------------------------------------ the verbs

def _user(by):
    return by if by is not None and by.is_authenticated else None


@transaction.atomic
def issue_report(*, round, by, evaluation: str, suggestions: str = "", version: int | None = None) -> InspectionReport:
    """Our side writes the evaluation and improvement suggestions of a done round and sends the report to the
    customer for confirmation (their contacts get the signed link). Again while it waits: the texts change and a new
    link is sent (`version`: the report's, as seen); a confirmed report does not change."""
    evaluation = (evaluation or "").strip()
    if not evaluation:
        raise DomainError(_("Write the evaluation of the round."), field="evaluation")
    round_ = lock_round(round)
    if round_.state != RoundState.DONE:
        raise IllegalTransition(_("A report is issued for a done round."))
    now = clock.now()
    report = InspectionReport.objects.select_for_update().filter(round=round_).first()
    if report is None:
        report = InspectionReport.objects.create(round=round_, customer_id=round_.customer_id,
                                                 branch_id=round_.branch_id, evaluation=evaluation,
                                                 suggestions=(suggestions or "").strip(), issued_at=now,
                                                 issued_by=_user(by))
    else:
        claim_version(report, version)
        if report.state != ReportState.AWAITING:
            raise IllegalTransition(_("The customer has confirmed this report: it does not change any more."))
        report.evaluation, report.suggestions = evaluation, (suggestions or "").strip()
        report.issued_at, report.issued_by = now, _user(by)
        report.save(update_fields=["evaluation", "suggestions", "issued_at", "issued_by", "version"])
    record(round_, EventKind.REPORT_ISSUED, actor=_user(by), at=now, report=report.pk, report_version=report.version)
    from aftersales.notify import services as notify

    notify.enqueue(event=EVENT, about=round_, recipients=customer_contacts(round_),
                   subject=_("Inspection report %(number)s: please confirm") % {"number": round_.number},
                   body=_("%(plan)s (%(period)s)\n%(evaluation)s\n\nConfirm it with your signature: %(url)s") % {
                       "plan": round_.plan.name, "period": round_.period_label, "evaluation": evaluation,
                       "url": report_url(report)},
                   url=report_url(report), dedupe_key=f"ins-report-{report.pk}-v{report.version}")
    return report


def check_signature(signature) -> None:
    """The signature is required: a PNG drawn on screen, at most 1 MB."""
    if signature is None:
        raise DomainError(_("Please sign in the box."), field="signature")
    size = getattr(signature, "size", None)
    head = signature.read(16)
    signature.seek(0)
    if size is None or size > SIGNATURE_MAX_BYTES or sniff(head) != "image/png":
        raise DomainError(_("The signature could not be read. Please sign again."), field="signature")


@contextmanager
def _files_removed_on_failure():
    stored = []
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise


def confirm_report(*, report: InspectionReport, version: int, via: str, signer_name: str, signature,
                   comment: str = "", by=None, on_screen_of=None) -> InspectionReport:
    """The customer confirms the report with their signature: on our engineer's screen (`on_screen_of`; the signer
    has no login), in the portal (`by`, the customer's user) or through the mailed link (`by` the customer's user if
    logged in, else None)."""
    if via not in ReportSignedVia.values:
        raise DomainError(_("Say how the report was signed."), field="via")
    signer_name = (signer_name or "").strip()
    if not signer_name:
        raise DomainError(_("Give the name of the person signing."), field="signer_name")
    if len(signer_name) > 100:
        raise DomainError(_("The name is too long."), field="signer_name")
    check_signature(signature)
    with _files_removed_on_failure() as stored:
        report = InspectionReport.objects.select_for_update().select_related("round__plan").get(pk=report.pk)
        claim_version(report, version)
        if by is not None and by.is_authenticated and by.customer_id not in (None, report.customer_id):
            raise DomainError(_("Only the round's customer confirms its report."))
        if report.state != ReportState.AWAITING:
            raise IllegalTransition(_("This report is confirmed already."))
        now = clock.now()
        report.signature.save("signature.png", signature, save=False)
        stored.append(report.signature)
        report.state, report.confirmed_at, report.signed_via, report.signer_name = (
            ReportState.CONFIRMED, now, via, signer_name)
        report.comment = (comment or "").strip()
        report.signed_by = _user(by) if by is not None and getattr(by, "customer_id", None) else None
        report.recorded_by = _user(on_screen_of)
        report.save(update_fields=["signature", "state", "confirmed_at", "signed_via", "signer_name", "comment",
                                   "signed_by", "recorded_by", "version"])
        round_ = report.round
        record(round_, EventKind.REPORT_CONFIRMED, actor=_user(by) or _user(on_screen_of), at=now, note=report.comment,
               report=report.pk, via=via, signer=signer_name)
        from aftersales.notify import services as notify

        notify.enqueue(event=EVENT, about=round_, recipients=our_side(round_),
                       subject=_("Inspection report %(number)s confirmed by %(name)s") % {
                           "number": round_.number, "name": signer_name},
                       body=report.comment, url=reverse("inspections:report", args=[round_.pk]),
                       dedupe_key=f"ins-report-ok-{report.pk}")
    return report


# ------------------------------------------------------------------------------------------------ what it shows

def content(round_) -> dict:
    """Everything the report shows, from round_page's prefetch plus the findings and the report row."""
    rows = selectors.sheet(round_)
    findings = selectors.findings_of(round_)
    by_check = {}
    for finding in findings:
        by_check.setdefault(finding.device_check_id, []).append(finding)
    for row in rows:
        row["finding_rows"] = by_check.get(row["check"].pk, [])
    report = InspectionReport.objects.select_related("issued_by", "signed_by", "recorded_by").filter(
        round_id=round_.pk).first()
    states = {}
    for finding in findings:
        states[finding.state] = states.get(finding.state, 0) + 1
    return {"rows": rows, "findings": findings, "report": report,
            "total_items": sum(len(row["items"]) for row in rows),
            "answered_items": sum(row["answered"] for row in rows),
            "skipped": sum(1 for row in rows if row["check"].skipped_reason),
            "finding_states": states}
