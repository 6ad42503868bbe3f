"""Reads of the approval gate (INS-2) and of the windows the calendars show: every round through
selectors.rounds_for (SEC-1: a customer their own projects', an engineer the rounds assigned to them), proposals
prefetched in order, the devices of a page of rounds in a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from aftersales.assets.models import Device

from . import selectors
from .models import (
    ChecklistTemplate,
    DeviceSelection,
    InspectionPlan,
    InspectionRound,
    ProposalSide,
    ProposalState,
    RoundState,
    WindowProposal,
)


def with_proposals(rounds: QuerySet) -> QuerySet:
    return rounds.prefetch_related(Prefetch(
        "proposals", queryset=WindowProposal.objects.select_related("proposed_by", "answered_by").order_by("number"),
        to_attr="proposal_rows"))


def proposals_of(round_) -> list[WindowProposal]:
    rows = getattr(round_, "proposal_rows", None)
    if rows is None:
        rows = list(round_.proposals.select_related("proposed_by", "answered_by").order_by("number"))
        round_.proposal_rows = rows
    return rows


def open_proposal(round_) -> WindowProposal | None:
    if round_.state != RoundState.AWAITING_APPROVAL:
        return None
    return next((p for p in proposals_of(round_) if p.state == ProposalState.OPEN), None)


def agreed_proposal(round_) -> WindowProposal | None:
    """The window agreed with the customer: the last accepted proposal, while the round stays approved."""
    if round_.approved_at is None:
        return None
    accepted = [p for p in proposals_of(round_) if p.state == ProposalState.ACCEPTED]
    return accepted[-1] if accepted else None


@dataclass(frozen=True)
class Window:
    starts_at: datetime
    ends_at: datetime
    agreed: bool
    sequence: int


def window_of(round_) -> Window | None:
    """The round's time in a calendar: the agreed window, or (tentative) the one under discussion."""
    agreed = agreed_proposal(round_)
    if agreed is not None:
        return Window(agreed.starts_at, agreed.ends_at, True, agreed.number)
    pending = open_proposal(round_)
    if pending is not None:
        return Window(pending.starts_at, pending.ends_at, False, pending.number)
    return None


def awaiting(user) -> QuerySet:
    """The rounds of the user's scope waiting for the customer's approval, soonest first. A customer's user sees
    those with a window under discussion (ours to answer, or theirs waiting for us), not the ones we have not
    proposed a window for yet."""
    rounds = (selectors.round_list(user).filter(state=RoundState.AWAITING_APPROVAL, needs_approval=True)
              .order_by("due_on", "pk"))
    if user.customer_id:
        rounds = rounds.filter(proposals__state=ProposalState.OPEN)  # at most one open proposal per round
    return with_proposals(rounds)


def turn_of(round_) -> str:
    """Whose move it is: `customer` (our window waits for them), `provider` (their window, or none sent yet)."""
    pending = open_proposal(round_)
    return "customer" if pending is not None and pending.side == ProposalSide.PROVIDER else "provider"


def devices_for(rounds) -> dict[int, list[Device]]:
    """round id → the devices its plan would inspect now (as services.devices_to_check), for a page of rounds in
    three queries whatever its length."""
    rounds = list(rounds)
    plans = {r.plan_id: r.plan for r in rounds}
    if not plans:
        return {}
    categories: dict[int, set[int]] = {pk: set() for pk in plans}
    links = (InspectionPlan.checklists.through.objects
             .filter(inspectionplan_id__in=list(plans), checklisttemplate__is_active=True,
                     checklisttemplate__current__isnull=False)
             .values_list("inspectionplan_id", "checklisttemplate__category_id"))
    for plan_id, category_id in links:
        categories[plan_id].add(category_id)
    chosen = [pk for pk, plan in plans.items() if plan.selection == DeviceSelection.CHOSEN]
    by_plan: dict[int, list[Device]] = {pk: [] for pk in plans}
    if chosen:
        for row in (InspectionPlan.devices.through.objects.filter(inspectionplan_id__in=chosen)
                    .select_related("device")):
            if row.device.category_id in categories[row.inspectionplan_id]:
                by_plan[row.inspectionplan_id].append(row.device)
    whole = {plan.project_id: pk for pk, plan in plans.items() if plan.selection != DeviceSelection.CHOSEN}
    if whole:
        wanted = set().union(*(categories[pk] for pk in whole.values()))
        for device in Device.objects.filter(project_id__in=list(whole), category_id__in=list(wanted)):
            for pk, plan in plans.items():
                if plan.selection != DeviceSelection.CHOSEN and plan.project_id == device.project_id \
                        and device.category_id in categories[pk]:
                    by_plan[pk].append(device)
    for devices in by_plan.values():
        devices.sort(key=lambda d: (d.location, d.name, d.pk))
    return {r.pk: by_plan[r.plan_id] for r in rounds}


def default_scope(round_) -> str:
    names = list(ChecklistTemplate.objects.filter(plans=round_.plan_id).order_by("name").values_list("name", flat=True))
    from django.utils.translation import gettext as _

    return _("Routine check of every device, cleaning (camera lenses, dust), test and adjustment, replacement of "
             "faulty parts; checklists: %(names)s") % {"names": ", ".join(names) or "-"}


def approval_rows(round_) -> list[WindowProposal]:
    return proposals_of(round_)


def round_for_approval(user, pk) -> InspectionRound:
    return with_proposals(selectors.round_list(user)).get(pk=pk)
