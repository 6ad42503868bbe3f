from django.urls import path

from . import views

# Included at /intake/ in the "intake" namespace.
urlpatterns = [
    path("projects/<id:pk>/labels/", views.LabelSheet.as_view(), name="label_sheet"),
    path("d/<str:code>/", views.LabelScan.as_view(), name="label_scan"),
    path("follow/<str:token>/", views.ReportFollow.as_view(), name="report_follow"),
]
