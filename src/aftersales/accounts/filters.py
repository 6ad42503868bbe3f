import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet

from .models import Branch, Position, Specialty, User


class StaffFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    branch = ScopedChoiceFilter(Branch, label=_("Branch"))
    position = django_filters.ChoiceFilter(choices=Position.choices, label=_("Position"))
    specialty = django_filters.ChoiceFilter(choices=Specialty.choices, label=_("Specialty"))

    class Meta:
        model = User
        fields = ["q", "branch", "position", "specialty"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(full_name__icontains=value) | Q(username__icontains=value) | Q(phone__icontains=value)
            | Q(email__icontains=value)
        )


class BranchFilter(StyledFilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Search"))

    class Meta:
        model = Branch
        fields = ["q"]
