from django.utils.translation import gettext_lazy as _
from django.views.generic import ListView

from aftersales.core.clock import today
from aftersales.core.views import ScopedCreateView, ScopedDetailView, ScopedListView, ScopedMixin, ScopedUpdateView

from .filters import DeviceFilter
from .forms import DeviceForm
from .models import Device
from .selectors import expiring

DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 3650


class DeviceList(ScopedListView):
    model = Device
    permission_required = "assets.view_device"
    filterset_class = DeviceFilter
    sort_fields = {
        "name": "name", "serial": "serial_number", "model": "model", "category": "category__name",
        "project": "project__name", "warranty_end": "warranty_end", "installed": "installed_on",
    }

    def base_queryset(self):
        return Device.objects.select_related("project", "category", "manufacturer")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "today": today()}


class DeviceDetail(ScopedDetailView):
    model = Device
    permission_required = "assets.view_device"

    def base_queryset(self):
        return Device.objects.select_related("project__customer", "category", "manufacturer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["warranty"] = self.object.warranty_status(today())
        return context


class DeviceCreate(ScopedCreateView):
    model = Device
    form_class = DeviceForm
    permission_required = "assets.add_device"
    extra_context = {"form_title": _("New device")}

    def get_initial(self):
        project_id = self.request.GET.get("project")
        return {"project": project_id} if project_id and project_id.isdigit() else {}


class DeviceUpdate(ScopedUpdateView):
    model = Device
    form_class = DeviceForm
    permission_required = "assets.change_device"


class WarrantyExpiring(ScopedMixin, ListView):
    """CUS-4: devices whose warranty ends within N days (`?days=`)."""

    model = Device
    permission_required = "assets.view_device"
    paginate_by = 50
    template_name = "assets/warranty_expiring.html"

    def days(self) -> int:
        try:
            return max(0, min(int(self.request.GET.get("days", DEFAULT_EXPIRY_DAYS)), MAX_EXPIRY_DAYS))
        except ValueError:
            return DEFAULT_EXPIRY_DAYS

    def get_queryset(self):
        scoped = super().get_queryset().select_related("project__customer", "category", "manufacturer")
        return expiring(scoped, within_days=self.days())

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "days": self.days(), "today": today(), "querystring": f"days={self.days()}"}
