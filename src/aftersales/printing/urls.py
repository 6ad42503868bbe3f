"""RPT-2: /print/… — each printable form of one record, as a PDF (printing/views.py)."""

from django.urls import path

from . import views

app_name = "printing"
urlpatterns = [
    path("work-orders/<id:pk>.pdf", views.WorkOrderPdf.as_view(), name="work_order"),
    path("work-orders/<id:pk>/charge-sheet.pdf", views.WorkOrderChargeSheetPdf.as_view(), name="work_order_charges"),
    path("incident-reports/<id:pk>.pdf", views.IncidentReportPdf.as_view(), name="incident_report"),
    path("inspection-rounds/<id:pk>/report.pdf", views.InspectionReportPdf.as_view(), name="inspection_report"),
    path("surveys/<id:pk>.pdf", views.SurveyPdf.as_view(), name="survey"),
    path("training/<id:pk>/feedback.pdf", views.TrainingFeedbackPdf.as_view(), name="training_feedback"),
    path("projects/<id:pk>/staff.pdf", views.StaffRosterPdf.as_view(), name="staff_roster"),
    path("projects/<id:pk>/labels.pdf", views.LabelSheetPdf.as_view(), name="label_sheet"),
    path("repairs/<id:pk>/charge-sheet.pdf", views.RepairChargeSheetPdf.as_view(), name="repair_charges"),
]
