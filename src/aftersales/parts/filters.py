import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.accounts.models import Branch
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.core.plausible import validate_plausible

from .models import Location, LocationKind, Movement, MovementKind, Part, StockSlot


class StockFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Part"), max_length=100)
    branch = ScopedChoiceFilter(Branch, label=_("Branch"), field_name="location__branch")
    location = ScopedChoiceFilter(Location, label=_("Location"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), field_name="location__kind", choices=LocationKind.choices)
    low = django_filters.BooleanFilter(label=_("Below minimum"), method="only_low")

    class Meta:
        model = StockSlot
        fields = ["q", "branch", "location", "kind", "low"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(part__name__icontains=value) | Q(part__part_number__icontains=value))

    def only_low(self, queryset, name, value):
        return queryset.filter(is_low=value)


class MovementFilter(StyledFilterSet):
    part = django_filters.ModelChoiceFilter(label=_("Part"), queryset=Part.objects.order_by("name", "pk"))
    location = ScopedChoiceFilter(Location, label=_("Location"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=MovementKind.choices)
    date_from = django_filters.DateFilter(label=pgettext_lazy("date range", "From"), field_name="at",
                                          lookup_expr="date__gte",
                                          validators=[validate_plausible])
    date_to = django_filters.DateFilter(label=pgettext_lazy("date range", "To"), field_name="at",
                                        lookup_expr="date__lte",
                                        validators=[validate_plausible])

    class Meta:
        model = Movement
        fields = ["part", "location", "kind", "date_from", "date_to"]


class PartFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Part
        fields = ["q", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(part_number__icontains=value)
                               | Q(manufacturer__name__icontains=value))
