import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import Branch
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet

from .models import Customer, Project


class CustomerFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    branch = ScopedChoiceFilter(Branch, label=_("Branch"))

    class Meta:
        model = Customer
        fields = ["q", "branch"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value) | Q(phone__icontains=value))


class ProjectFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    customer = ScopedChoiceFilter(Customer, label=_("Customer"))
    branch = ScopedChoiceFilter(Branch, label=_("Branch"))

    class Meta:
        model = Project
        fields = ["q", "customer", "branch"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(contract_number__icontains=value) | Q(customer__name__icontains=value)
            | Q(site_address__icontains=value)
        )
