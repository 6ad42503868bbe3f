"""Filters of training sessions and handover lists, for the pages and the API alike."""

import re

from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Customer, Project

from .models import HandoverItem, SessionKind, SessionState, TrainingSession

SESSION_NUMBER = re.compile(r"^\s*PX0*(\d{1,12})\s*$", re.IGNORECASE)
MAX_SEARCH = 100


class SessionFilter(StyledFilterSet):
    state = filters.MultipleChoiceFilter(label=_("State"), choices=SessionState.choices)
    kind = filters.ChoiceFilter(label=_("Kind of training"), choices=SessionKind.choices)
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    q = filters.CharFilter(label=_("Search"), method="search", max_length=MAX_SEARCH,
                           help_text="A session number (PX00012) or words of its title.")

    class Meta:
        model = TrainingSession
        fields = ["state", "kind", "customer", "project", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        number = SESSION_NUMBER.match(value)
        if number:
            return queryset.filter(pk=int(number.group(1)))
        return queryset.filter(Q(title__icontains=value) | Q(project__name__icontains=value))


class HandoverProjectFilter(StyledFilterSet):
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    independent = filters.BooleanFilter(label=_("Runs independently"), method="only_independent")
    q = filters.CharFilter(label=_("Search"), method="search", max_length=MAX_SEARCH)

    class Meta:
        model = Project
        fields = ["customer", "independent", "q"]

    def only_independent(self, queryset, name, value):
        done = Q(items_total__gt=0, items_done=F("items_total"))
        return queryset.filter(done) if value else queryset.exclude(done)

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(contract_number__icontains=value)) if value else queryset


class HandoverItemFilter(StyledFilterSet):
    project = filters.NumberFilter(field_name="project_id", min_value=1, max_value=2**63 - 1)
    done = filters.BooleanFilter(label=_("Demonstrated"), field_name="demonstrated_on", lookup_expr="isnull",
                                 exclude=True)

    class Meta:
        model = HandoverItem
        fields = ["project", "done"]
