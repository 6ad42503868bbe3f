from django.urls import path

from . import views_mail

urlpatterns = [
    path("triage/", views_mail.TriagePage.as_view(), name="mail_triage"),
    path("triage/projects/", views_mail.ProjectChoices.as_view(), name="mail_project_choices"),
]
