from django.urls import path

from . import views

app_name = "assets"
urlpatterns = [
    path("", views.DeviceList.as_view(), name="device_list"),
    path("new/", views.DeviceCreate.as_view(), name="device_create"),
    path("warranty-expiring/", views.WarrantyExpiring.as_view(), name="warranty_expiring"),
    path("<id:pk>/", views.DeviceDetail.as_view(), name="device_detail"),
    path("<id:pk>/edit/", views.DeviceUpdate.as_view(), name="device_update"),
    # CUS-3: import (upload -> preview -> confirm) and export
    path("import/", views.DeviceImport.as_view(), name="device_import"),
    path("import/preview/", views.DeviceImportPreview.as_view(), name="device_import_preview"),
    path("import/rejected.csv", views.DeviceImportRejected.as_view(), name="device_import_rejected"),
    path("import/template.xlsx", views.DeviceImportTemplate.as_view(), name="device_import_template"),
    path("export.csv", views.DeviceExport.as_view(fmt="csv"), name="device_export_csv"),
    path("export.xlsx", views.DeviceExport.as_view(fmt="xlsx"), name="device_export_xlsx"),
]
