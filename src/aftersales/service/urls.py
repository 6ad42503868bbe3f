from django.urls import path

from . import views
from . import views_export

app_name = "service"
urlpatterns = [
    path("", views.RequestList.as_view(), name="request_list"),
    path("export.csv", views_export.RequestExport.as_view(fmt="csv"), name="request_export_csv"),
    path("export.xlsx", views_export.RequestExport.as_view(fmt="xlsx"), name="request_export_xlsx"),
    path("desk/", views.DeskQueue.as_view(), name="desk"),
    path("desk/new/", views.DeskIntake.as_view(), name="intake"),
    path("desk/projects/", views.ProjectSearch.as_view(), name="project_search"),
    path("new/", views.PortalSubmit.as_view(), name="submit"),
    path("devices/", views.DeviceChoices.as_view(), name="device_choices"),
    path("work/", views.MyWork.as_view(), name="my_work"),
    path("<int:pk>/", views.RequestDetail.as_view(), name="request_detail"),
    *[path(f"<int:pk>/{action.name.replace('_', '-')}/", action.as_view(), name=action.name) for action in views.ACTIONS],
    path("attachments/<int:pk>/", views.AttachmentDownload.as_view(), name="attachment"),
    path("confirm/<str:token>/", views.ConfirmByLink.as_view(), name="confirm_by_link"),
    path("confirm/incident/<str:token>/", views.ConfirmIncidentByLink.as_view(), name="confirm_incident_by_link"),
]
