from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Branch, OnCallShift, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Organisation"), {"fields": ("full_name", "phone", "branch", "customer", "position", "specialty", "title")}),
    )
    list_display = ("username", "full_name", "position", "branch", "customer", "is_active")
    list_filter = ("position", "branch", "is_active", "groups")
    search_fields = ("username", "full_name", "phone", "email")


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "phone")


@admin.register(OnCallShift)
class OnCallShiftAdmin(admin.ModelAdmin):
    list_display = ("branch", "user", "specialty", "weekday", "start_time", "end_time", "valid_from", "valid_until")
    list_filter = ("branch", "specialty")
