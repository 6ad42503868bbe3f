from django.urls import path

from .views import exports, intake_forms, queue, request_page, signed_links

app_name = "service"
urlpatterns = [
    path("", queue.RequestList.as_view(), name="request_list"),
    path("export.csv", exports.RequestExport.as_view(fmt="csv"), name="request_export_csv"),
    path("export.xlsx", exports.RequestExport.as_view(fmt="xlsx"), name="request_export_xlsx"),
    path("desk/", queue.DeskQueue.as_view(), name="desk"),
    path("desk/new/", intake_forms.DeskIntake.as_view(), name="intake"),
    path("desk/projects/", intake_forms.ProjectSearch.as_view(), name="project_search"),
    path("new/", intake_forms.PortalSubmit.as_view(), name="submit"),
    path("devices/", intake_forms.DeviceChoices.as_view(), name="device_choices"),
    path("work/", queue.MyWork.as_view(), name="my_work"),
    path("<id:pk>/", request_page.RequestDetail.as_view(), name="request_detail"),
    *[path(f"<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name)
      for view in request_page.ACTION_VIEWS],
    path("attachments/<id:pk>/", request_page.AttachmentDownload.as_view(), name="attachment"),
    path("confirm/<str:token>/", signed_links.ConfirmByLink.as_view(), name="confirm_by_link"),
    path("confirm/incident/<str:token>/", signed_links.ConfirmIncidentByLink.as_view(), name="confirm_incident_by_link"),
]
