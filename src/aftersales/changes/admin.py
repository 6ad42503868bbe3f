"""Change notices in the admin: read-only. The verbs (changes/services.py) are their only writers; an edit here would
bypass the version check, the deadline and the notifications."""

from django.contrib import admin

from .models import ChangeNotice, CompatibilityTest


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CompatibilityTestInline(admin.TabularInline):
    model = CompatibilityTest
    fields = ["subject", "environment", "result", "tested_by", "tested_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ChangeNotice)
class ChangeNoticeAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "customer", "kind", "state", "window_starts_at", "answer_due_at"]
    list_filter = ["state", "kind", "verdict", "channel"]
    list_select_related = ["customer"]
    search_fields = ["title"]
    inlines = [CompatibilityTestInline]
