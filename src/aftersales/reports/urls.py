from django.urls import path

from . import report_views

app_name = "reports"
urlpatterns = []

# RPT-1 (helper A): the reports, one page each (?export=csv|xlsx|pdf), and the rows behind every number.
urlpatterns += [
    path("", report_views.ReportIndex.as_view(), name="report_index"),
    *[path(f"{slug}/", report_views.ReportPage.as_view(slug=slug), name=f"report_{slug}")
      for slug in report_views.REPORTS],
    path("rows/<slug:figure>/", report_views.ReportRows.as_view(), name="rows"),
]
