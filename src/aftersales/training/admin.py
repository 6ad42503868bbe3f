"""Trainings in the admin: read-only. The verbs (training/services.py) are their only writers, and the training log
is their audit; an edit here would bypass both."""

from django.contrib import admin

from .models import (
    Attendee,
    HandoverItem,
    TrainingFeedback,
    TrainingLog,
    TrainingMaterial,
    TrainingSession,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TrainingSession)
class TrainingSessionAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "project", "kind", "state", "starts_at"]
    list_filter = ["state", "kind", "venue"]
    search_fields = ["title", "project__name"]
    list_select_related = ["project"]


admin.site.register(Attendee, ReadOnlyAdmin, list_display=["name", "role", "phone", "session", "attended"])
admin.site.register(TrainingMaterial, ReadOnlyAdmin, list_display=["original_name", "session", "size", "uploaded_at"],
                    exclude=["file"])
admin.site.register(TrainingFeedback, ReadOnlyAdmin, list_display=["session", "signer_name", "rating", "signed_via",
                                                                   "signed_at"], exclude=["signature"])
admin.site.register(HandoverItem, ReadOnlyAdmin, list_display=["capability", "project", "demonstrated_by",
                                                               "demonstrated_on", "session"])
admin.site.register(TrainingLog, ReadOnlyAdmin, list_display=["kind", "project", "session", "item", "at", "actor"])
