from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from aftersales.core.plausible import implausible_year_message, plausible_form_fields, plausible_year, validate_plausible

from . import calendar_store as calendars
from .models import (
    CalendarDay, EscalationRule, HolidayYear, ProjectPolicy, ServiceRequest, SlaPolicy, SlaTargetRule, TimelineEvent,
    WorkCalendar,
)


class CalendarDayForm(forms.ModelForm):
    """A day typed by an administrator: 2000 to today + 10 years (issue 20), like every date people enter."""

    class Meta:
        model = CalendarDay
        fields = "__all__"
        field_classes = plausible_form_fields("day")


class HolidayYearForm(forms.ModelForm):
    class Meta:
        model = HolidayYear
        fields = "__all__"

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is not None and not plausible_year(year):
            raise forms.ValidationError(implausible_year_message(), code="implausible_date")
        return year


class ServiceRequestAdminForm(forms.ModelForm):
    class Meta:
        model = ServiceRequest
        fields = "__all__"

    def clean_scheduled_for(self):
        """The admin's split date/time widget keeps its own field class: the rule is applied here instead."""
        value = self.cleaned_data.get("scheduled_for")
        validate_plausible(value)
        return value


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    form = CalendarDayForm
    extra = 1
    fields = ["day", "kind", "name"]


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "always_on", "use_public_holidays"]
    inlines = [CalendarDayInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """The public calendar (no service calendar) and closure days: add 2027 when the State Council publishes it."""

    form = CalendarDayForm
    list_display = ["day", "kind", "name", "calendar"]
    list_filter = ["kind", "calendar"]
    date_hierarchy = "day"


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    form = HolidayYearForm
    list_display = ["year", "source"]
    actions = ["import_from_chinese_calendar"]

    @admin.action(description=_("Import the selected years from the chinese-calendar package"))
    def import_from_chinese_calendar(self, request, queryset):
        for year in queryset.values_list("year", flat=True):
            if calendars.import_public_year(year):
                self.message_user(request, _("%(year)s imported.") % {"year": year})
            else:
                self.message_user(request, _("The chinese-calendar package has no data for %(year)s; enter its days by hand.") % {"year": year},
                                  messages.WARNING)


class SlaTargetRuleInline(admin.TabularInline):
    model = SlaTargetRule
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "calendar", "warn_at_percent", "is_default"]
    inlines = [SlaTargetRuleInline]

    def save_model(self, request, obj, form, change):
        if change:  # a configuration page or API call opened on the old version is refused (service/policy_config.py)
            obj.version += 1
        super().save_model(request, obj, form, change)


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = ["branch", "level", "position", "delay_minutes"]
    list_filter = ["branch"]


@admin.register(ProjectPolicy)
class ProjectPolicyAdmin(admin.ModelAdmin):
    list_display = ["project", "policy"]
    raw_id_fields = ["project"]


class TimelineInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "at", "actor", "text", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    form = ServiceRequestAdminForm
    list_display = ["number", "title", "state", "priority", "customer", "next_due_at", "escalation_level"]
    list_filter = ["state", "priority", "branch"]
    search_fields = ["number", "title"]
    raw_id_fields = ["project", "reporter", "assignee", "advisor", "devices"]
    readonly_fields = ["state", "reply_due_at", "resolve_due_at", "next_due_at", "escalation_level"]
    inlines = [TimelineInline]
