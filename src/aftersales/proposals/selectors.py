"""Reads of hidden-danger reports and proposals; every one goes through the scoping door (core.scoping.visible).
A customer's contacts never see drafts: a draft of theirs is a 404 like another customer's row."""

from django.db.models import Count, Prefetch, Q, QuerySet

from aftersales.core.scoping import get_visible_or_404, visible

from .models import (
    FollowUpStep,
    HazardReport,
    HazardState,
    Proposal,
    ProposalOption,
    ProposalState,
)


def _without_drafts(queryset, user, draft):
    return queryset.exclude(state=draft) if getattr(user, "customer_id", None) else queryset


def visible_hazard_reports(user) -> QuerySet[HazardReport]:
    """Exactly the reports `user` may see: their scope, and for a customer's contact only sent ones."""
    return _without_drafts(visible(HazardReport.objects.all(), user), user, HazardState.DRAFT)


def visible_proposals(user) -> QuerySet[Proposal]:
    """Exactly the proposals `user` may see: their scope, and for a customer's contact only sent ones."""
    return _without_drafts(visible(Proposal.objects.all(), user), user, ProposalState.DRAFT)


def hazard_list(user) -> QuerySet[HazardReport]:
    """The list's rows: one query for a page (project and customer joined)."""
    return visible_hazard_reports(user).select_related("project", "customer")


def proposal_list(user) -> QuerySet[Proposal]:
    """The list's rows: one query for a page (project, customer and chosen option joined, options counted)."""
    return (visible_proposals(user).select_related("project", "customer", "chosen_option")
            .annotate(option_count=Count("options", distinct=True),
                      steps_total=Count("steps", distinct=True),
                      steps_done=Count("steps", filter=Q(steps__state="done"), distinct=True)))


def hazard_page(user, pk) -> HazardReport:
    queryset = (HazardReport.objects.select_related("project__customer", "author", "sent_by", "answered_by",
                                                    "service_request", "inspection_round__plan")
                .prefetch_related("devices", "proposals"))
    return get_visible_or_404(_without_drafts(queryset, user, HazardState.DRAFT), user, pk=pk)


def proposal_page(user, pk) -> Proposal:
    queryset = (Proposal.objects.select_related("project__customer", "author", "sent_by", "answered_by",
                                                "chosen_option", "hazard_report", "service_request")
                .prefetch_related(Prefetch("options", queryset=ProposalOption.objects.order_by("label")),
                                  Prefetch("steps", queryset=FollowUpStep.objects.select_related("updated_by")
                                           .order_by("position", "pk"))))
    return get_visible_or_404(_without_drafts(queryset, user, ProposalState.DRAFT), user, pk=pk)
