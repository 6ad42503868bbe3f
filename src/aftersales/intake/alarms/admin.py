"""Administration of the alarm channel: keys (hash read-only, created on the keys page only), device aliases,
priority rules and the received events (read-only)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from aftersales.assets.selectors import retired_refusal
from aftersales.service.models import Priority

from ..models import AlarmEvent, AlarmPriorityRule, DeviceAlias, IntegrationKey
from .rules import ALARM_TYPES


def _register(model, admin_class):
    if not admin.site.is_registered(model):
        admin.site.register(model, admin_class)


class IntegrationKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "project", "prefix", "active", "auto_close_recovered", "last_used_at"]
    list_filter = ["active", "auto_close_recovered"]
    search_fields = ["name", "prefix", "customer__name"]
    readonly_fields = ["customer", "project", "prefix", "key_hash", "created_by", "created_at", "last_used_at"]
    fields = ["name", "customer", "project", "active", "auto_close_recovered", "prefix", "key_hash", "created_by",
              "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # a key is created on the integration keys page, where it is shown once

    def has_delete_permission(self, request, obj=None):
        return False  # its events refer to it; deactivate instead


class DeviceAliasForm(forms.ModelForm):
    class Meta:
        model = DeviceAlias
        fields = ["customer", "external_id", "device"]

    def clean(self):
        data = super().clean()
        device, customer = data.get("device"), data.get("customer")
        if device and customer and device.project.customer_id != customer.pk:
            raise ValidationError({"device": _("The device must belong to the customer.")})
        if device and (refusal := retired_refusal([device])):  # issue 22 §3: an alias names a device in service
            raise ValidationError({"device": refusal})
        return data


class DeviceAliasAdmin(admin.ModelAdmin):
    form = DeviceAliasForm
    list_display = ["external_id", "device", "customer"]
    search_fields = ["external_id", "device__serial_number", "device__name"]
    raw_id_fields = ["device"]
    list_select_related = ["device", "customer"]


class AlarmPriorityRuleForm(forms.ModelForm):
    priority = forms.ChoiceField(label=_("priority"), choices=Priority.choices)

    class Meta:
        model = AlarmPriorityRule
        fields = ["alarm_type", "category", "priority"]
        help_texts = {"category": _("Empty: every category without a rule of its own.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alarm_type"].help_text = _("e.g. %(types)s") % {"types": ", ".join(ALARM_TYPES)}

    def clean_alarm_type(self):
        return self.cleaned_data["alarm_type"].strip().lower().replace("-", "_")


class AlarmPriorityRuleAdmin(admin.ModelAdmin):
    form = AlarmPriorityRuleForm
    list_display = ["alarm_type", "category", "priority"]
    list_filter = ["alarm_type", "priority"]
    ordering = ["alarm_type", "category__name"]


class AlarmEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "key", "customer", "alarm_type", "raised", "outcome", "device", "request"]
    list_filter = ["outcome", "alarm_type", "raised"]
    search_fields = ["reason", "device__serial_number", "request__number"]
    list_select_related = ["key", "customer", "device", "request"]
    date_hierarchy = "received_at"
    show_full_result_count = False  # no COUNT(*) over the event table (lessons.md #10)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


_register(IntegrationKey, IntegrationKeyAdmin)
_register(DeviceAlias, DeviceAliasAdmin)
_register(AlarmPriorityRule, AlarmPriorityRuleAdmin)
_register(AlarmEvent, AlarmEventAdmin)
