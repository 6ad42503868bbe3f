"""Work orders (SRQ-7): the engineer submits one, the customer confirms it (closing the request) or rejects it
(reopening it with the reason)."""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition
from aftersales.core.versioning import claim_version

from .. import attachments, notices, part_lines
from ..actions import check as check_allowed
from ..clock import meet, recompute
from ..models import (
    EventKind,
    State,
    Target,
    TargetKind,
    WorkOrder,
    WorkOrderState,
    WorkResult,
)
from ..timeline import (
    changes_since,
    lock_request,
    move,
    record,
    snapshot,
)


def submit_work_order(*, request, by, version: int, actions: str, minutes_spent: int, result: str,
                      parts_used: str = "", parts=(), uploads=()) -> WorkOrder:
    """The engineer's work order, with its screenshots (`uploads`, stored by this verb, all or nothing); the
    request waits for the customer's confirmation.

    `parts`: the catalogue parts used (part_lines.PartLine), each taken out of its location's stock by one ledger
    movement in this transaction (issue 22 §7). A line the ledger refuses (out of stock, …) refuses the whole work
    order: nothing is written and no file is kept. `parts_used` is the parts note: what is not in the catalogue."""
    parts = list(parts)
    if result not in WorkResult.values:
        raise DomainError(_("Choose a result."), field="result")
    if not actions.strip():
        raise DomainError(_("Describe the actions taken."), field="actions")
    if result != WorkResult.SOLVED and not uploads:
        raise DomainError(_("Screenshots are required when the problem is not solved."), field="attachments")
    with attachments.atomic_with_files() as stored:
        request = lock_request(request)
        claim_version(request, version)
        if request.state in (State.DISPATCHED, State.EN_ROUTE):
            raise IllegalTransition(_("Record the arrival on site before the work order."))
        check_allowed("work_order", request, by)
        now = clock.now()
        move(request, State.RESOLVED)
        request.resolved_at = now
        request.save(update_fields=["state", "resolved_at", "updated_at"])
        work_order = WorkOrder.objects.create(request=request, engineer=by, actions=actions, parts_used=parts_used,
                                              minutes_spent=minutes_spent, result=result)
        work_order.part_lines = used = part_lines.use_parts(parts, work_order=work_order, by=by)
        from aftersales.billing.services import issue_for_work_order  # billing reads the service's models

        work_order.sheet = issue_for_work_order(work_order, used)  # CUS-5: the charge sheet the customer confirms
        for upload in uploads:
            attachment = attachments.store(request, upload, by=by)
            stored.append(attachment)
            attachment.work_order = work_order
            attachment.save(update_fields=["work_order"])
        meet(request, TargetKind.RESOLUTION, now)
        recompute(request, now=now)
        lines = {"parts": [{"movement": m.pk, "part": str(m.part), "quantity": m.quantity} for m in used]} if used else {}
        record(request, EventKind.RESOLVED, actor=by, at=now, work_order=work_order.pk, result=result, **lines)
        from ..confirmation import confirmation_url

        notices.send("confirmation_needed", request, notices.customer_contacts(request),
                     subject=_("Please confirm the work on %(number)s") % {"number": request.number},
                     body=actions, url=confirmation_url(work_order), dedupe_key=f"wo-done-{work_order.pk}")
    return work_order


def _locked_work_order(work_order, version: int) -> tuple[WorkOrder, dict]:
    work_order = WorkOrder.objects.select_for_update().select_related("request").get(pk=work_order.pk)
    claim_version(work_order, version)
    return work_order, snapshot(work_order)


@transaction.atomic
def confirm_work_order(*, work_order, by=None, version: int, via: str, signer_name: str = "",
                       signature=None, satisfaction: int | None = None, comment: str = "") -> WorkOrder:
    """SRQ-7: the customer accepts the work; the request is closed."""
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise DomainError(_("Rate from 1 to 5."), field="satisfaction")
    work_order, before = _locked_work_order(work_order, version)
    if work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(_("Only a work order awaiting confirmation can be confirmed."))
    now = clock.now()
    work_order.state, work_order.confirmed_at, work_order.confirmed_by = WorkOrderState.CONFIRMED, now, by
    work_order.signer_name = signer_name or (by.display_name if by else "")
    work_order.confirmed_via, work_order.satisfaction, work_order.customer_comment = via, satisfaction, comment
    if signature is not None:
        work_order.signature.save(f"wo-{work_order.pk}-{now:%Y%m%d%H%M%S}.png", signature, save=False)
    work_order.save()
    request = lock_request(work_order.request)
    temporary = work_order.result == WorkResult.WORKAROUND
    if temporary:  # service restored; the request stays open for the permanent fix (issue 21 §2)
        move(request, State.RESTORED)
        request.restored_at = request.restored_at or now
        request.save(update_fields=["state", "restored_at", "updated_at"])
    else:
        move(request, State.CLOSED)
        request.closed_at = now
        request.save(update_fields=["state", "closed_at", "updated_at"])
        part_lines.release_reserved(request=request, by=by)
    recompute(request, now=now)
    changes = changes_since(request, request.audit_baseline) | changes_since(work_order, before, prefix="work_order.")
    record(request, EventKind.CONFIRMED, actor=by, at=now, changes=changes, work_order=work_order.pk, via=via,
           signer=work_order.signer_name, satisfaction=satisfaction, text=comment, temporary=temporary)
    subject = (_("%(number)s: the customer confirmed the temporary fix; a permanent fix is due") if temporary
               else _("%(number)s confirmed by the customer")) % {"number": request.number}
    notices.send("work_order_confirmed", request, [work_order.engineer, *notices.desk(request)],
                 subject=subject, body=comment or "", dedupe_key=f"wo-ok-{work_order.pk}")
    return work_order


@transaction.atomic
def rate_work_order(*, work_order, by, version: int, satisfaction: int, comment: str = "") -> WorkOrder:
    """Issue 21 §4: a customer who confirmed without the stars rates the work later. Once: a rating is not edited."""
    if satisfaction is None or not 1 <= satisfaction <= 5:
        raise DomainError(_("Rate from 1 to 5."), field="satisfaction")
    work_order, before = _locked_work_order(work_order, version)
    if work_order.state != WorkOrderState.CONFIRMED or work_order.satisfaction is not None:
        raise IllegalTransition(_("Only a confirmed work order without a rating can be rated."))
    if by is None or by.customer_id != work_order.request.customer_id:
        raise IllegalTransition(_("Only the customer rates the work."))
    now = clock.now()
    work_order.satisfaction = satisfaction
    if comment.strip():
        work_order.customer_comment = "\n".join(filter(None, [work_order.customer_comment, comment.strip()]))
    work_order.save(update_fields=["satisfaction", "customer_comment", "version", "updated_at"])
    request = work_order.request
    record(request, EventKind.RATED, actor=by, at=now, changes=changes_since(work_order, before, prefix="work_order."),
           work_order=work_order.pk, satisfaction=satisfaction, text=comment.strip())
    notices.send("work_order_rated", request, [work_order.engineer, *notices.desk(request)],
                 subject=_("%(number)s rated %(stars)s / 5 by the customer") % {"number": request.number,
                                                                              "stars": satisfaction},
                 body=comment, dedupe_key=f"wo-rated-{work_order.pk}")
    return work_order


@transaction.atomic
def reject_work_order(*, work_order, by=None, version: int, via: str, reason: str) -> WorkOrder:
    """SRQ-7: rejection reopens the request with the reason; the resolution clock runs again."""
    if not reason.strip():
        raise DomainError(_("Say why the work is rejected."), field="reason")
    work_order, before = _locked_work_order(work_order, version)
    if work_order.state != WorkOrderState.AWAITING_CONFIRMATION:
        raise IllegalTransition(_("Only a work order awaiting confirmation can be rejected."))
    now = clock.now()
    work_order.state, work_order.rejection_reason, work_order.confirmed_via = WorkOrderState.REJECTED, reason, via
    work_order.save(update_fields=["state", "rejection_reason", "confirmed_via", "updated_at"])
    request = lock_request(work_order.request)
    move(request, State.REPLIED)
    request.resolved_at = None
    request.save(update_fields=["state", "resolved_at", "updated_at"])
    Target.objects.filter(request=request, kind=TargetKind.RESOLUTION).update(met_at=None)
    recompute(request, now=now)
    changes = changes_since(request, request.audit_baseline) | changes_since(work_order, before, prefix="work_order.")
    record(request, EventKind.REJECTED, actor=by, at=now, changes=changes, text=reason, work_order=work_order.pk,
           via=via)
    notices.send("work_rejected", request, [work_order.engineer, *notices.desk(request)],
                 subject=_("%(number)s reopened: the customer rejected the work") % {"number": request.number},
                 body=reason, dedupe_key=f"wo-rejected-{work_order.pk}")
    return work_order
