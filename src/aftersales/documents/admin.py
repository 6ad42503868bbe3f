"""Project documents in the admin: read-only. The verbs (documents/services.py) are their only writers; an edit here
would bypass the version numbering and the password check."""

from django.contrib import admin

from .models import Document, DocumentVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["title", "project", "kind", "visibility", "current_number", "updated_at"]
    list_filter = ["kind", "visibility"]
    search_fields = ["title"]
    list_select_related = ["project"]


@admin.register(DocumentVersion)
class DocumentVersionAdmin(ReadOnlyAdmin):
    list_display = ["document", "number", "original_name", "size", "author", "created_at"]
    list_select_related = ["document", "author"]
    exclude = ["text"]
