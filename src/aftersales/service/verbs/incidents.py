"""Incident reports (SRQ-8): the engineer's account of a fault (cause, impact, timeline, fix, prevention), sent to
the customer, who confirms it or rejects it with a reason. The report has its own version."""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.core.versioning import claim_version

from .. import notices
from ..models import EventKind, IncidentReport, WorkOrderState
from ..timeline import changes_since, record, snapshot

INCIDENT_FIELDS = ("cause", "impact", "timeline", "fix", "prevention")


@transaction.atomic
def save_incident_report(*, request, by, version: int | None, **fields) -> IncidentReport:
    """Write or revise the draft of a fault's incident report (cause, impact, timeline, fix, prevention)."""
    missing = [name for name in INCIDENT_FIELDS if not str(fields.get(name, "")).strip()]
    if missing:
        raise DomainError(_("This part of the report is required."), field=missing[0])
    report = IncidentReport.objects.select_for_update().filter(request=request).first()
    if report is None:
        report = IncidentReport.objects.create(request=request, author=by, **{k: fields[k] for k in INCIDENT_FIELDS})
        before, step = {}, "drafted"
    else:
        before, step = snapshot(report), "revised"
        if version is None:
            raise StaleObject(_("This request already has an incident report. Revise it with its current version."))
        claim_version(report, version)
        if report.state not in (WorkOrderState.DRAFT, WorkOrderState.REJECTED):
            raise IllegalTransition(_("A submitted or confirmed report cannot be edited."))
        for name in INCIDENT_FIELDS:
            setattr(report, name, fields[name])
        report.state = WorkOrderState.DRAFT
        report.save()
    # A draft is the staff's own: its line says nothing the customer may not read yet (the template hides it).
    record(request, EventKind.INCIDENT_REPORT, actor=by, step=step, report=report.pk,
           changes=changes_since(report, before, prefix="incident_report."))
    return report


@transaction.atomic
def submit_incident_report(*, report, by, version: int) -> IncidentReport:
    """SRQ-8: submit the report to the customer for confirmation."""
    from ..confirmation import incident_confirmation_url

    report = IncidentReport.objects.select_for_update().select_related("request").get(pk=report.pk)
    claim_version(report, version)
    before = snapshot(report)
    if report.state not in (WorkOrderState.DRAFT, WorkOrderState.REJECTED):
        raise IllegalTransition(_("Only a draft report can be submitted."))
    now = clock.now()
    report.state, report.submitted_at, report.rejection_reason = WorkOrderState.AWAITING_CONFIRMATION, now, ""
    report.save()
    record(report.request, EventKind.INCIDENT_REPORT, actor=by, at=now, text=report.cause, step="submitted",
           report=report.pk, changes=changes_since(report, before, prefix="incident_report."))
    notices.send("confirmation_needed", report.request, notices.customer_contacts(report.request),
                       subject=_("Please confirm the incident report of %(number)s") % {"number": report.request.number},
                       body=report.cause, url=incident_confirmation_url(report),
                       dedupe_key=f"incident-{report.pk}-{report.version}")
    return report


@transaction.atomic
def answer_incident_report(*, report, by=None, version: int, accept: bool, reason: str = "", via: str,
                           signer_name: str = "") -> IncidentReport:
    """SRQ-8: the customer confirms the report, or rejects it with a reason (back to draft for revision)."""
    report = IncidentReport.objects.select_for_update().select_related("request").get(pk=report.pk)
    claim_version(report, version)
    before = snapshot(report)
    if report.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(_("Only a submitted report can be confirmed or rejected."))
    if not accept and not reason.strip():
        raise DomainError(_("Say why the report is rejected."), field="reason")
    now = clock.now()
    if accept:
        report.state, report.confirmed_at, report.confirmed_by = WorkOrderState.CONFIRMED, now, by
    else:
        report.state, report.rejection_reason = WorkOrderState.REJECTED, reason
    report.save()
    record(report.request, EventKind.INCIDENT_REPORT, actor=by, at=now, text=reason,
           step="confirmed" if accept else "rejected", report=report.pk, via=via,
           signer=signer_name or (by.display_name if by else ""),
           changes=changes_since(report, before, prefix="incident_report."))
    notices.send("incident_report_answered", report.request, [report.author, *notices.desk(report.request)],
                       subject=(_("Incident report of %(number)s confirmed") if accept
                                else _("Incident report of %(number)s rejected")) % {"number": report.request.number},
                       body=reason, dedupe_key=f"incident-answer-{report.pk}-{report.version}")
    return report
