from django.contrib import admin

from .models import CoveragePeriod, CoverageReminder, ServiceContract


class PeriodInline(admin.TabularInline):
    model = CoveragePeriod
    extra = 0
    fields = ["starts_on", "ends_on", "covers_parts", "covers_labour", "covers_onsite", "response_tier", "renews"]
    readonly_fields = ["renews"]


admin.site.register(ServiceContract, search_fields=["number", "project__name"], list_display=["number", "project", "renewal"],
                    raw_id_fields=["project", "devices"], inlines=[PeriodInline])
admin.site.register(CoverageReminder, list_display=["kind", "period", "device", "ends_on", "offset", "fired_at"],
                    raw_id_fields=["period", "device"])
