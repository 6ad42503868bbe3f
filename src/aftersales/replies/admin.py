from django.contrib import admin

from .models import CannedReply


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    """Read-only here: the pages (replies/views.py) check the branch and the version."""

    list_display = ["title", "branch", "active", "used_count", "updated_at"]
    list_filter = ["active", "branch"]
    search_fields = ["title", "body"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
