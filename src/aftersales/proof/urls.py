from django.urls import path
from django.views.decorators.http import require_POST

from . import views

app_name = "proof"
urlpatterns = [
    path("", views.ReportList.as_view(), name="report_list"),
    path("generate/", require_POST(views.Generate.as_view()), name="generate"),
    path("<int:pk>/", views.ReportDetail.as_view(), name="report_detail"),
    path("<int:pk>/pdf/", views.ReportPdf.as_view(), name="report_pdf"),
    path("<int:pk>/regenerate/", require_POST(views.Regenerate.as_view()), name="regenerate"),
]
