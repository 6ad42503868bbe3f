from django.urls import path

from . import views

# Included at /intake/mail/ in the "intake" namespace.
urlpatterns = [
    path("triage/", views.TriagePage.as_view(), name="mail_triage"),
    path("triage/projects/", views.ProjectChoices.as_view(), name="mail_project_choices"),
]
