from django.contrib import admin

from .forms import DeviceAdminForm
from .models import Device, DeviceCategory, Manufacturer

admin.site.register(DeviceCategory, list_display=["name", "code"])
admin.site.register(Manufacturer, search_fields=["name"])
admin.site.register(Device, form=DeviceAdminForm, search_fields=["serial_number", "name"], list_display=["name", "model", "serial_number", "project", "retired_at"], raw_id_fields=["project"])
