"""Filters of change notices, for the page and the API alike."""

import re

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from aftersales.core import clock
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Customer, Project

from .models import OPEN_STATES, ChangeKind, ChangeNotice, NoticeState

NOTICE_NUMBER = re.compile(r"^\s*BG0*(\d{1,12})\s*$", re.IGNORECASE)
MAX_SEARCH = 100


class NoticeFilter(StyledFilterSet):
    state = filters.MultipleChoiceFilter(label=_("State"), choices=NoticeState.choices)
    awaiting = filters.BooleanFilter(label=_("Awaiting our answer"), method="only_awaiting")
    overdue = filters.BooleanFilter(label=_("Answer overdue"), method="only_overdue")
    kind = filters.ChoiceFilter(label=_("Kind of change"), choices=ChangeKind.choices)
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    q = filters.CharFilter(label=_("Search"), method="search", max_length=MAX_SEARCH,
                           help_text="A notice number (BG00012) or words of its title.")

    class Meta:
        model = ChangeNotice
        fields = ["state", "awaiting", "overdue", "kind", "customer", "project", "q"]

    def only_awaiting(self, queryset, name, value):
        awaiting = Q(state__in=OPEN_STATES)
        return queryset.filter(awaiting) if value else queryset.exclude(awaiting)

    def only_overdue(self, queryset, name, value):
        late = Q(state__in=OPEN_STATES, answer_due_at__lte=clock.now())
        return queryset.filter(late) if value else queryset.exclude(late)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        number = NOTICE_NUMBER.match(value)
        if number:
            return queryset.filter(pk=int(number.group(1)))
        return queryset.filter(Q(title__icontains=value) | Q(project__name__icontains=value))
