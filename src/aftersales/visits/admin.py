"""Return visits and surveys in the admin: read-only. The verbs (visits/services.py) are their only writers; an edit
here would bypass the version check, the follow-ups a survey opens and the single-use link."""

from django.contrib import admin

from .models import FollowUp, ReturnVisit, Survey, VisitSchedule


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReturnVisit)
class ReturnVisitAdmin(ReadOnlyAdmin):
    list_display = ["number", "project", "kind", "due_on", "state", "owner", "visited_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["project", "owner"]
    search_fields = ["project__name", "project__contract_number"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["project_name", "period", "state", "satisfaction", "abnormal", "answered_at", "answered_via"]
    list_filter = ["state", "answered_via"]
    search_fields = ["project_name", "contract_number"]


admin.site.register(VisitSchedule, ReadOnlyAdmin, list_display=["project", "cadence", "day_of_month", "owner", "active"],
                    list_select_related=["project", "owner"])
admin.site.register(FollowUp, ReadOnlyAdmin, list_display=["pk", "project", "owner", "due_on", "state"],
                    list_select_related=["project", "owner"])
