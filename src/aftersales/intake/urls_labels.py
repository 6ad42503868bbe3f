from django.urls import path

from . import views_labels

urlpatterns = [
    path("projects/<int:pk>/labels/", views_labels.LabelSheet.as_view(), name="label_sheet"),
    path("d/<str:code>/", views_labels.LabelScan.as_view(), name="label_scan"),
    path("follow/<str:token>/", views_labels.ReportFollow.as_view(), name="report_follow"),
]
