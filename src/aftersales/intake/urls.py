from django.urls import include, path

app_name = "intake"
urlpatterns = [
    path("mail/", include("aftersales.intake.urls_mail")),
    path("", include("aftersales.intake.urls_labels")),
    path("alarms/", include("aftersales.intake.urls_alarms")),
]
