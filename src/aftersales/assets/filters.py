import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.clock import today
from aftersales.core.filters import ScopedChoiceFilter, StyledFilterSet
from aftersales.customers.models import Customer, Project

from .models import IN_SERVICE, Device, DeviceCategory, Manufacturer
from .selectors import warranty_state_q

WARRANTY_CHOICES = [
    ("manufacturer", _("Manufacturer warranty")),
    ("integrator", _("Integrator extended warranty")),
    ("expired", _("Out of warranty")),
    ("not_started", _("Warranty not started")),
    ("unknown", _("Warranty unknown")),
]

IN_SERVICE_STATUS, RETIRED_STATUS, ALL_STATUS = "in_service", "retired", "all"
STATUS_CHOICES = [
    (IN_SERVICE_STATUS, _("In service")),
    (RETIRED_STATUS, _("Retired")),
    (ALL_STATUS, _("In service and retired")),
]
STATUS_Q = {IN_SERVICE_STATUS: IN_SERVICE, RETIRED_STATUS: ~IN_SERVICE, ALL_STATUS: Q()}


class DeviceFilter(StyledFilterSet):
    """The device list's filters, for the page, its exports and the API. Issue 22 §3: without `status` the list holds
    the devices in service; `status=retired` the retired ones, `status=all` both."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    customer = ScopedChoiceFilter(Customer, field_name="project__customer", label=_("Customer"))
    project = ScopedChoiceFilter(Project, label=_("Project"))
    category = django_filters.ModelChoiceFilter(queryset=DeviceCategory.objects.all(), label=_("Category"))
    manufacturer = django_filters.ModelChoiceFilter(queryset=Manufacturer.objects.all(), label=_("Manufacturer"))
    warranty = django_filters.ChoiceFilter(choices=WARRANTY_CHOICES, method="by_warranty", label=_("Warranty"))
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="by_status", label=_("Status"),
                                         empty_label=None)  # no choice: in service

    class Meta:
        model = Device
        fields = ["q", "customer", "project", "category", "manufacturer", "warranty", "status"]

    def __init__(self, data=None, *args, **kwargs):
        # Bound also without parameters, so that the default status applies to a bare list (an unbound FilterSet
        # returns its queryset unfiltered).
        super().__init__({} if data is None else data, *args, **kwargs)

    def filter_queryset(self, queryset):
        """The status applies also when it is not given (the default: in service)."""
        queryset = super().filter_queryset(queryset)
        return queryset.filter(STATUS_Q[self.form.cleaned_data.get("status") or IN_SERVICE_STATUS])

    def by_status(self, queryset, name, value):
        return queryset  # applied in filter_queryset, with the default

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(serial_number__icontains=value) | Q(name__icontains=value) | Q(model__icontains=value)
            | Q(location__icontains=value)
        )

    def by_warranty(self, queryset, name, value):
        return queryset.filter(warranty_state_q(value, today()))
