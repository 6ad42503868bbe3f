from django.contrib import admin

from .models import Location, Movement, Part, StockLevel


@admin.register(Part)
class PartAdmin(admin.ModelAdmin):
    list_display = ["name", "part_number", "manufacturer", "unit", "purchase_cost", "serial_tracked", "active"]
    list_filter = ["active", "serial_tracked", "manufacturer"]
    search_fields = ["name", "part_number"]

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger names it: make it inactive instead


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "branch", "engineer", "is_main", "active"]
    list_filter = ["kind", "branch", "active"]
    raw_id_fields = ["engineer"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    """Read here; set on the page or through the API (services.set_level), which also checks the alert."""

    list_display = ["part", "location", "minimum", "target"]
    list_filter = ["location"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Movement)
class MovementAdmin(admin.ModelAdmin):
    """The ledger, read-only: rows are added by the verbs (parts/services.py) and corrected by reversing rows."""

    list_display = ["pk", "at", "kind", "part", "location", "quantity", "on_hand_change", "reserved_change",
                    "defective_change", "unit_cost", "by"]
    list_filter = ["kind", "location"]
    list_select_related = ["part", "location", "by"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
