import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.clock import today
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Customer, Project

from .models import Device, DeviceCategory, Manufacturer
from .selectors import warranty_state_q

WARRANTY_CHOICES = [
    ("manufacturer", _("Manufacturer warranty")),
    ("integrator", _("Integrator extended warranty")),
    ("expired", _("Out of warranty")),
    ("not_started", _("Warranty not started")),
    ("unknown", _("Warranty unknown")),
]


class DeviceFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    customer = ScopedChoiceFilter(Customer, field_name="project__customer", label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    category = django_filters.ModelChoiceFilter(queryset=DeviceCategory.objects.all(), label=_("Category"))
    manufacturer = django_filters.ModelChoiceFilter(queryset=Manufacturer.objects.all(), label=_("Manufacturer"))
    warranty = django_filters.ChoiceFilter(choices=WARRANTY_CHOICES, method="by_warranty", label=_("Warranty"))

    class Meta:
        model = Device
        fields = ["q", "customer", "project", "category", "manufacturer", "warranty"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(serial_number__icontains=value) | Q(name__icontains=value) | Q(model__icontains=value)
            | Q(location__icontains=value)
        )

    def by_warranty(self, queryset, name, value):
        return queryset.filter(warranty_state_q(value, today()))
