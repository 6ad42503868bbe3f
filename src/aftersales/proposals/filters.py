"""Filters of hidden-danger reports and proposals, for the pages and the API alike."""

import re

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Customer, Project

from .models import (
    HazardReport,
    HazardState,
    Proposal,
    ProposalKind,
    ProposalState,
    Risk,
)

MAX_SEARCH = 100
HAZARD_NUMBER = re.compile(r"^\s*YH0*(\d{1,12})\s*$", re.IGNORECASE)
PROPOSAL_NUMBER = re.compile(r"^\s*FA0*(\d{1,12})\s*$", re.IGNORECASE)


def _search(queryset, value, number):
    value = value.strip()
    if not value:
        return queryset
    match = number.match(value)
    if match:
        return queryset.filter(pk=int(match.group(1)))
    return queryset.filter(Q(title__icontains=value) | Q(project__name__icontains=value))


class WithoutDraftsForCustomers:
    """A customer's contact never sees drafts (selectors): their state filter does not offer them either."""

    draft = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(getattr(self.request, "user", None), "customer_id", None):
            # on this instance's form (its fields are the form's own copies): a filter's field, once built (the API
            # schema builds them), is shared by every copy of the filter set
            state = self.form.fields["state"]
            state.choices = [choice for choice in state.choices if choice[0] != self.draft]


class HazardFilter(WithoutDraftsForCustomers, StyledFilterSet):
    draft = HazardState.DRAFT
    state = filters.MultipleChoiceFilter(label=_("State"), choices=HazardState.choices)
    risk = filters.ChoiceFilter(label=_("Risk level"), choices=Risk.choices)
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    q = filters.CharFilter(label=_("Search"), method="search", max_length=MAX_SEARCH,
                           help_text="A report number (YH00012) or words of its title or project.")

    class Meta:
        model = HazardReport
        fields = ["state", "risk", "customer", "project", "q"]

    def search(self, queryset, name, value):
        return _search(queryset, value, HAZARD_NUMBER)


class ProposalFilter(WithoutDraftsForCustomers, StyledFilterSet):
    draft = ProposalState.DRAFT
    state = filters.MultipleChoiceFilter(label=_("State"), choices=ProposalState.choices)
    kind = filters.ChoiceFilter(label=_("Kind of proposal"), choices=ProposalKind.choices)
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    q = filters.CharFilter(label=_("Search"), method="search", max_length=MAX_SEARCH,
                           help_text="A proposal number (FA00012) or words of its title or project.")

    class Meta:
        model = Proposal
        fields = ["state", "kind", "customer", "project", "q"]

    def search(self, queryset, name, value):
        return _search(queryset, value, PROPOSAL_NUMBER)
