from django.contrib import admin

from .models import FollowUpStep, HazardReport, Proposal, ProposalOption


@admin.register(HazardReport)
class HazardReportAdmin(admin.ModelAdmin):
    """Read-mostly: the verbs in proposals/services.py are the writers."""

    list_display = ["number", "title", "project", "risk", "state", "created_at"]
    list_filter = ["state", "risk"]
    search_fields = ["title", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project", "devices", "service_request", "inspection_round", "author", "sent_by", "answered_by"]


class OptionInline(admin.TabularInline):
    model = ProposalOption
    extra = 0


class StepInline(admin.TabularInline):
    model = FollowUpStep
    extra = 0
    raw_id_fields = ["updated_by"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "project", "kind", "state", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["title", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project", "hazard_report", "service_request", "author", "sent_by", "answered_by",
                     "chosen_option"]
    inlines = [OptionInline, StepInline]
