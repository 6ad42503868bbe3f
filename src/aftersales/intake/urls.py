from django.urls import include, path

app_name = "intake"
urlpatterns = [
    path("mail/", include("aftersales.intake.mail.urls")),
    path("", include("aftersales.intake.labels.urls")),
    path("alarms/", include("aftersales.intake.alarms.urls")),
]
