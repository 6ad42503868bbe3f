"""Filters of repair cases and loans, for the pages and the API alike."""

import re

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from aftersales.core import clock
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Customer

from .models import OPEN_STATES, Loan, RepairCase, RepairState, VendorRma
from .selectors import overdue_loan_q, overdue_rma_q

CASE_NUMBER = re.compile(r"^\s*RP0*(\d{1,12})\s*$", re.IGNORECASE)
MAX_SEARCH = 100


def overdue_case_q(today) -> Q:
    return (Exists(VendorRma.objects.filter(overdue_rma_q(today), case=OuterRef("pk")))
            | Exists(Loan.objects.filter(overdue_loan_q(today), case=OuterRef("pk"))))


class CaseFilter(StyledFilterSet):
    state = filters.MultipleChoiceFilter(label=_("State"), choices=RepairState.choices)
    open = filters.BooleanFilter(label=_("Open"), method="only_open")
    overdue = filters.BooleanFilter(label=_("Overdue"), method="only_overdue",
                                    help_text="Only cases whose RMA is overdue from the manufacturer or whose loaned "
                                              "unit is overdue from the customer.")
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    device = filters.NumberFilter(field_name="device_id", min_value=1, max_value=2**63 - 1)
    service_request = filters.NumberFilter(field_name="service_request_id", min_value=1, max_value=2**63 - 1)
    q = filters.CharFilter(label=_("Search"), method="search", max_length=MAX_SEARCH,
                           help_text="A case number (RP000012) or a device's serial number.")

    class Meta:
        model = RepairCase
        fields = ["state", "open", "overdue", "customer", "device", "service_request", "q"]

    def only_open(self, queryset, name, value):
        return queryset.filter(state__in=OPEN_STATES) if value else queryset.exclude(state__in=OPEN_STATES)

    def only_overdue(self, queryset, name, value):
        condition = overdue_case_q(clock.today())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        number = CASE_NUMBER.match(value)
        if number:
            return queryset.filter(pk=int(number.group(1)))
        return queryset.filter(Q(device__serial_number__iexact=value) | Q(replaced_by__serial_number__iexact=value))


class BoardFilter(CaseFilter):
    """The board's filter bar: one state at a time (the counts above it are the other states)."""

    state = filters.ChoiceFilter(label=_("State"), choices=RepairState.choices)
    overdue = filters.ChoiceFilter(label=_("Overdue"), method="overdue_choice", empty_label=_("All"),
                                   choices=[("true", _("RMA or loan overdue"))])
    open = None  # the counts above the list are the states
    device = None
    service_request = None

    def overdue_choice(self, queryset, name, value):
        return self.only_overdue(queryset, name, value == "true")

    class Meta(CaseFilter.Meta):
        fields = ["q", "state", "overdue", "customer"]


class LoanFilter(StyledFilterSet):
    open = filters.BooleanFilter(label=_("Out now"), method="only_open")
    overdue = filters.BooleanFilter(label=_("Overdue"), method="only_overdue")
    case = filters.NumberFilter(field_name="case_id", min_value=1, max_value=2**63 - 1)

    class Meta:
        model = Loan
        fields = ["open", "overdue", "case"]

    def only_open(self, queryset, name, value):
        return queryset.filter(returned_at__isnull=value)

    def only_overdue(self, queryset, name, value):
        condition = overdue_loan_q(clock.today())
        return queryset.filter(condition) if value else queryset.exclude(condition)
