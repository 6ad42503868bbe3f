"""Repair cases in the admin: read-only. The verbs (repairs/services.py) are their only writers, and their steps are
their audit; an edit here would bypass both."""

from django.contrib import admin

from .models import DeviceReplacement, Loan, RepairCase, RepairStep, VendorRma


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RepairCase)
class RepairCaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "device", "customer", "state", "opened_at", "ended_at"]
    list_filter = ["state"]
    search_fields = ["device__serial_number"]
    list_select_related = ["device", "customer"]


admin.site.register(RepairStep, ReadOnlyAdmin, list_display=["case", "kind", "from_state", "to_state", "at", "actor"])
admin.site.register(VendorRma, ReadOnlyAdmin, list_display=["rma_number", "case", "sent_on", "returned_on", "verdict"])
admin.site.register(Loan, ReadOnlyAdmin, list_display=["unit_serial", "unit_model", "case", "due_back_on", "returned_at"])
admin.site.register(DeviceReplacement, ReadOnlyAdmin, list_display=["old", "new", "case", "at"])
