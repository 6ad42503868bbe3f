from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [
    path("", views.NotificationList.as_view(), name="notification_list"),
    path("preferences/", views.PreferenceUpdate.as_view(), name="preferences"),
    path("outbox/", views.Outbox.as_view(), name="outbox"),
]
