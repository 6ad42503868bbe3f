from django.contrib import admin

from .models import Customer, DeadlineExtension, Milestone, Project

admin.site.register(Customer, search_fields=["name"], list_display=["name", "branch"])
admin.site.register(Project, search_fields=["name", "contract_number"], list_display=["name", "contract_number", "customer"])
admin.site.register(Milestone, list_display=["project", "kind", "contract_deadline", "actual_date"])
admin.site.register(DeadlineExtension, list_display=["milestone", "days", "reason"])
