"""INS-5: 巡检报告 — "对于每次巡检，提出评测和改进意见，将检查内容和结果记录，与客户共同保留": the round's results per device
and item, the evaluation and improvement suggestions, the findings and what became of them, and the customer's
signature (or an empty box to sign by hand)."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aftersales.inspections import reports, selectors
from aftersales.inspections.findings import reading_text
from aftersales.inspections.models import (
    FindingState,
    InspectionRound,
    ReportSignedVia,
    ReportState,
    RoundState,
)

from .common import NO_SIGNATURE, day, issuer, label, name_of, signature, when

TEMPLATE = "printing/inspection_report.html"
PERMISSION = "inspections.view_inspectionround"


def load(user, pk) -> InspectionRound:
    """The round as its report page reads it (selectors.round_page: scoped, engineers see their own rounds), a fixed
    number of queries whatever the number of devices and items."""
    try:
        round_ = selectors.round_page(user, pk)
    except InspectionRound.DoesNotExist:
        raise Http404 from None
    round_.content = reports.content(round_)
    report = round_.content["report"]
    round_.picture = signature(report.signature) if report is not None else NO_SIGNATURE
    round_.branch_row = round_.project.branch if round_.project_id else None
    return round_


def filename(round_) -> str:
    return f"巡检报告-{round_.number}.pdf"


def answer_text(item, answer) -> str:
    if answer is None:
        return ""
    if answer.passed is True:
        return pgettext("checklist answer", "Pass")
    if answer.passed is False:
        return pgettext("checklist answer", "Fail")
    if answer.reading is not None:
        return f"{answer.reading.normalize()} {item.unit}".strip()
    return answer.text or (_("photo taken") if answer.photo else "")


def facts(round_, user) -> dict:
    content = round_.content
    report = content["report"]
    confirmed = report is not None and report.state == ReportState.CONFIRMED
    return {
        "form": "inspection_report",
        "issuer": issuer(round_.branch_row),
        "number": round_.number,
        "customer": round_.customer.name,
        "project": round_.project.name,
        "contract_number": round_.project.contract_number,
        "plan": round_.plan.name,
        "period": round_.period_label,
        "due_on": day(round_.due_on),
        "engineer": name_of(round_.engineer),
        "state": label(RoundState, round_.state),
        "started_at": when(round_.started_at),
        "completed_at": when(round_.completed_at),
        "items": {"answered": content["answered_items"], "total": content["total_items"]},
        "evaluation": report.evaluation if report is not None else round_.summary,
        "suggestions": report.suggestions if report is not None else "",
        "issued_at": when(report.issued_at) if report is not None else "",
        "issued_by": name_of(report.issued_by) if report is not None else "",
        "devices": [{
            "name": row["check"].device.name, "category": row["check"].device.category.name,
            "model": row["check"].device.model, "serial_number": row["check"].device.serial_number,
            "location": row["check"].device.location, "checked_at": when(row["check"].checked_at),
            "not_checked": row["check"].skipped_reason,
            "items": [{"item": item.label, "result": answer_text(item, answer),
                       "finding": bool(answer and answer.finding),
                       "note": (answer.note if answer else "")} for item, answer in row["items"]],
        } for row in content["rows"]],
        "findings": [{
            "device": finding.device.name, "item": finding.item.label,
            "result": reading_text(finding.item, finding.answer), "state": label(FindingState, finding.state),
            "request": finding.service_request.number if finding.service_request_id else "",
            "repair_case": finding.repair_case.number if finding.repair_case_id else "",
            "dismissed_reason": finding.dismissed_reason,
        } for finding in content["findings"]],
        "confirmation": {
            "confirmed": confirmed,
            "signer": report.signer_name if confirmed else "",
            "at": when(report.confirmed_at) if confirmed else "",
            "via": label(ReportSignedVia, report.signed_via) if confirmed else "",
            "comment": report.comment if confirmed else "",
            "signature_sha256": round_.picture.sha256,
        },
    }


def context(round_, user) -> dict:
    return {"signature_src": round_.picture.src}
