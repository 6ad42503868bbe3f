from django.urls import path

from . import approval_views, offline_views, report_views, views

app_name = "inspections"
urlpatterns = [
    path("", views.RoundList.as_view(), name="round_list"),
    path("completion/", views.Completion.as_view(), name="completion"),
    # issue 23 §4: the round pages' service worker; its default scope is /inspections/
    path("sw.js", offline_views.ServiceWorker.as_view(), name="service_worker"),
    path("rounds/<id:pk>/", views.RoundDetail.as_view(), name="round_detail"),
    path("rounds/<id:pk>/answer/", views.RecordAnswer.as_view(), name="answer"),
    path("rounds/<id:pk>/skip-device/", views.SkipDevice.as_view(), name="skip_device"),
    # One page per move: inspections:<name>
    *(path(f"rounds/<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name)
      for view in views.ACTION_VIEWS),
    path("answers/<id:pk>/photo/", views.AnswerPhoto.as_view(), name="answer_photo"),
    path("plans/", views.PlanList.as_view(), name="plan_list"),
    path("plans/new/", views.PlanCreate.as_view(), name="plan_create"),
    path("plans/<id:pk>/", views.PlanDetail.as_view(), name="plan_detail"),
    path("plans/<id:pk>/edit/", views.PlanEdit.as_view(), name="plan_edit"),
    path("checklists/", views.ChecklistList.as_view(), name="checklist_list"),
    path("checklists/new/", views.ChecklistCreate.as_view(), name="checklist_create"),
    path("checklists/defaults/", views.ChecklistDefaults.as_view(), name="checklist_defaults"),
    path("checklists/<id:pk>/", views.ChecklistDetail.as_view(), name="checklist_detail"),
    path("checklists/<id:pk>/revise/", views.ChecklistRevise.as_view(), name="checklist_revise"),
    # INS-2 (issue 23 §2): the approval gate; §10: calendars (approval_views.py)
    path("approvals/", approval_views.ApprovalList.as_view(), name="approvals"),
    path("rounds/<id:pk>/approval/", approval_views.RoundApproval.as_view(), name="round_approval"),
    path("rounds/<id:pk>/calendar.ics", approval_views.RoundInvite.as_view(), name="round_invite"),
    path("approve/<str:token>/", approval_views.ApprovalByLink.as_view(), name="approval_by_link"),
    path("invite/<str:token>/", approval_views.InviteByLink.as_view(), name="invite_by_link"),
    path("calendar/", approval_views.CalendarFeeds.as_view(), name="calendar_feeds"),
    path("calendar/<str:token>.ics", approval_views.CalendarFeed.as_view(), name="calendar_feed"),
    # INS-4, INS-5 (issue 23 §5, §6): findings, the report and its confirmation (report_views.py)
    path("rounds/<id:pk>/findings/", report_views.Findings.as_view(), name="findings"),
    path("rounds/<id:pk>/report/", report_views.Report.as_view(), name="report"),
    path("rounds/<id:pk>/report/issue/", report_views.IssueReport.as_view(), name="report_issue"),
    path("rounds/<id:pk>/report/confirm/", report_views.ConfirmReport.as_view(), name="report_confirm"),
    path("report/<str:token>/", report_views.ReportByLink.as_view(), name="report_by_link"),
]
