from django.urls import path

from . import views

app_name = "assets"
urlpatterns = [
    path("", views.DeviceList.as_view(), name="device_list"),
    path("new/", views.DeviceCreate.as_view(), name="device_create"),
    path("warranty-expiring/", views.WarrantyExpiring.as_view(), name="warranty_expiring"),
    path("<int:pk>/", views.DeviceDetail.as_view(), name="device_detail"),
    path("<int:pk>/edit/", views.DeviceUpdate.as_view(), name="device_update"),
]
