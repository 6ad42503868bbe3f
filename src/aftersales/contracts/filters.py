import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.core.plausible import validate_plausible
from aftersales.customers.models import Customer, Project

from . import selectors
from .models import CoveragePeriod, Renewal, ServiceContract

MAX_DAYS = 3650


@extend_schema_field(OpenApiTypes.INT)
class DaysFilter(django_filters.Filter):
    field_class = forms.IntegerField


class ContractFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    customer = ScopedChoiceFilter(Customer, field_name="project__customer", label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    ending_within = DaysFilter(method="by_ending", label=_("Ending within (days)"), min_value=0, max_value=MAX_DAYS)
    renewal = django_filters.ChoiceFilter(choices=Renewal.choices, label=_("Renewal"))

    class Meta:
        model = ServiceContract
        fields = ["q", "customer", "project", "ending_within", "renewal"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(number__icontains=value) | Q(project__name__icontains=value)
                               | Q(project__contract_number__icontains=value)
                               | Q(project__customer__name__icontains=value))

    def by_ending(self, queryset, name, value):
        return selectors.ending_within(queryset, value)


class PeriodFilter(StyledFilterSet):
    contract = ScopedChoiceFilter(ServiceContract, label=_("Contract"))
    ending_within = DaysFilter(method="by_ending", label=_("Ending within (days)"), min_value=0, max_value=MAX_DAYS)
    on = django_filters.DateFilter(method="covering", label=_("Covering the day"), validators=[validate_plausible])

    class Meta:
        model = CoveragePeriod
        fields = ["contract", "ending_within", "on"]

    def by_ending(self, queryset, name, value):
        return selectors.periods_ending_within(queryset, value)

    def covering(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)
