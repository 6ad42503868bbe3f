from django.contrib import admin

from .models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-only: articles are written through the verbs (knowledge/services.py), which keep their index current."""

    list_display = ["title", "state", "customer_visible", "manufacturer", "updated_at"]
    list_filter = ["state", "customer_visible"]
    search_fields = ["title"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
