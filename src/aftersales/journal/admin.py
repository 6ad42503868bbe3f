"""Daily logs in the admin: read-only. The verbs (journal/services.py) are their only writers and LogEvent their
audit; an edit here would bypass both."""

from django.contrib import admin

from .models import DailyLog, LogEntry, LogEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DailyLog)
class DailyLogAdmin(ReadOnlyAdmin):
    list_display = ["day", "author", "branch", "submitted_at", "corrected_at"]
    list_filter = ["branch"]
    date_hierarchy = "day"
    list_select_related = ["author", "branch"]


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ["day", "author", "project", "minutes", "visible_to_customer"]
    list_filter = ["visible_to_customer"]
    list_select_related = ["author", "project"]
    raw_id_fields = ["requests", "rounds"]


@admin.register(LogEvent)
class LogEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "log", "kind", "actor", "after_submission"]
    list_filter = ["kind", "after_submission"]
