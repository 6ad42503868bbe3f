from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("", views.VisitList.as_view(), name="visit_list"),
    path("new/", views.VisitCreate.as_view(), name="visit_create"),
    path("<id:pk>/", views.VisitDetail.as_view(), name="visit_detail"),
    path("<id:pk>/record/", views.VisitRecord.as_view(), name="visit_record"),
    path("<id:pk>/move/", views.VisitReplan.as_view(), name="visit_replan"),
    path("<id:pk>/cancel/", views.VisitCancel.as_view(), name="visit_cancel"),
    path("<id:pk>/follow-up/", views.VisitAddFollowUp.as_view(), name="visit_add_follow_up"),
    path("follow-ups/", views.FollowUpList.as_view(), name="followup_list"),
    path("follow-ups/<id:pk>/done/", views.FollowUpComplete.as_view(), name="followup_complete"),
    path("schedules/", views.ScheduleList.as_view(), name="schedule_list"),
    path("schedules/new/", views.ScheduleCreate.as_view(), name="schedule_create"),
    path("schedules/<id:pk>/", views.ScheduleUpdate.as_view(), name="schedule_update"),
    path("surveys/", views.SurveyList.as_view(), name="survey_list"),
    path("surveys/new/", views.SurveyCreate.as_view(), name="survey_create"),
    path("surveys/results/", views.SurveyResults.as_view(), name="survey_results"),
    path("surveys/<id:pk>/", views.SurveyDetail.as_view(), name="survey_detail"),
    path("surveys/<id:pk>/fill/", views.SurveyFill.as_view(), name="survey_fill"),
    path("surveys/<id:pk>/resend/", views.SurveyResend.as_view(), name="survey_resend"),
    # VIS-2: the no-account link mailed to the customer's contact (signed, expiring, single use)
    path("survey/<str:token>/", views.SurveyByLink.as_view(), name="survey_by_link"),
]
