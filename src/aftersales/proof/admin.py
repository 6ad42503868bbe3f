"""Monthly reports in the admin: read-only. The verbs (proof/services.py) are their only writers; staff regenerate a
month on the report's page, which keeps the older version."""

from django.contrib import admin

from .models import MonthlyReport


@admin.register(MonthlyReport)
class MonthlyReportAdmin(admin.ModelAdmin):
    list_display = ["customer", "year", "month", "version", "generated_at", "generated_by", "delivered_at"]
    list_filter = ["year", "month"]
    search_fields = ["customer__name"]
    list_select_related = ["customer", "generated_by"]
    exclude = ["facts", "pdf"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
