from django.urls import path

from .views import config as config_pages
from .views import board, exports, intake_forms, queue, request_page, search, signed_links

app_name = "service"
urlpatterns = [
    path("", queue.RequestList.as_view(), name="request_list"),
    path("export.csv", exports.RequestExport.as_view(fmt="csv"), name="request_export_csv"),
    path("export.xlsx", exports.RequestExport.as_view(fmt="xlsx"), name="request_export_xlsx"),
    path("desk/", queue.DeskQueue.as_view(), name="desk"),
    path("board/", board.DispatchBoard.as_view(), name="board"),
    path("desk/new/", intake_forms.DeskIntake.as_view(), name="intake"),
    path("desk/projects/", intake_forms.ProjectSearch.as_view(), name="project_search"),
    path("new/", intake_forms.PortalSubmit.as_view(), name="submit"),
    path("devices/", intake_forms.DeviceChoices.as_view(), name="device_choices"),
    path("work/", queue.MyWork.as_view(), name="my_work"),
    # Issue 21 §6: configuration (calendars, project policies, escalation ladders)
    path("config/", config_pages.ConfigHome.as_view(), name="config_home"),
    path("config/calendars/", config_pages.CalendarList.as_view(), name="config_calendars"),
    path("config/calendars/public/", config_pages.CalendarYear.as_view(), name="config_public_calendar"),
    path("config/calendars/<id:pk>/", config_pages.CalendarYear.as_view(), name="config_calendar"),
    path("config/policies/", config_pages.PolicyList.as_view(), name="config_policies"),
    path("config/policies/new/", config_pages.PolicyCreate.as_view(), name="config_policy_create"),
    path("config/policies/<id:pk>/", config_pages.PolicyDetail.as_view(), name="config_policy"),
    path("config/projects/<id:pk>/", config_pages.ProjectPolicyPage.as_view(), name="config_project_policy"),
    path("config/ladders/", config_pages.LadderList.as_view(), name="config_ladders"),
    path("config/ladders/<id:pk>/", config_pages.LadderPage.as_view(), name="config_ladder"),
    path("search/", search.RequestSearch.as_view(), name="search"),
    path("<id:pk>/", request_page.RequestDetail.as_view(), name="request_detail"),
    *[path(f"<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name)
      for view in request_page.ACTION_VIEWS],
    path("attachments/<id:pk>/", request_page.AttachmentDownload.as_view(), name="attachment"),
    path("confirm/<str:token>/", signed_links.ConfirmByLink.as_view(), name="confirm_by_link"),
    path("confirm/incident/<str:token>/", signed_links.ConfirmIncidentByLink.as_view(), name="confirm_incident_by_link"),
]
