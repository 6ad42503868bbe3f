from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("work-orders/<id:pk>/exception/", views.SheetException.as_view(), name="exception"),
    path("repairs/<id:pk>/exception/", views.RepairSheetException.as_view(), name="repair_exception"),
]
