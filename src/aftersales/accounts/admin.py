from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import TokenProxy

from .models import ApiToken, Branch, OnCallShift, User

# API tokens are ApiToken rows (accounts/tokens.py); DRF's own token table is no longer read.
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """An administrator sees every user's tokens (never a secret: only its hash is kept) and may revoke (delete) one;
    tokens are issued by their owners only."""

    list_display = ("name", "user", "created_at", "expires_at", "last_used_at")
    list_filter = ("expires_at",)
    search_fields = ("name", "user__username", "user__full_name")
    list_select_related = ("user",)
    fields = ("user", "name", "created_at", "expires_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
