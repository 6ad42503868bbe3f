from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import NotificationPreference, OutboxMessage, WebhookEndpoint
from .services import is_private


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=WebhookEndpoint._meta.get_field("url").verbose_name, max_length=500, assume_scheme="https",
                         help_text=WebhookEndpoint._meta.get_field("url").help_text)

    class Meta:
        model = WebhookEndpoint
        fields = "__all__"
        widgets = {"secret": forms.PasswordInput(render_value=True)}  # not shown on screen over a shoulder


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "kind", "active", "events", "branch", "customer", "owner")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    raw_id_fields = ("owner",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: messages change only through the worker and the retry page."""

    list_display = ("created_at", "event", "channel", "recipient_label", "subject", "attempts", "sent_at", "failed_at")
    list_filter = ("channel",)  # no filter on event: it would scan the whole outbox for its values
    search_fields = ("subject", "dedupe_key", "recipient_address", "message_id")
    list_select_related = ("endpoint", "recipient_user")
    show_full_result_count = False  # no COUNT(*) over the whole outbox

    @admin.display(description=_("recipient"))
    def recipient_label(self, obj):
        return obj.recipient_label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_exclude(self, request, obj=None):
        # A private message (a password reset link) is not shown: whoever reads the outbox must not take it over
        if obj is not None and is_private(obj):
            return ("body", "url", "payload")
        return super().get_exclude(request, obj)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email", "inapp")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__full_name")
    raw_id_fields = ("user",)
