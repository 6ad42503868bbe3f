from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("", views.DocumentList.as_view(), name="document_list"),
    path("project/<id:pk>/", views.ProjectDocuments.as_view(), name="project_documents"),
    path("project/<id:pk>/new/", views.DocumentCreate.as_view(), name="document_create"),
    path("<id:pk>/", views.DocumentDetail.as_view(), name="document_detail"),
    path("<id:pk>/upload/", views.UploadVersion.as_view(), name="version_upload"),
    path("<id:pk>/visibility/", views.ChangeVisibility.as_view(), name="visibility"),
    path("<id:pk>/diff/", views.DocumentDiff.as_view(), name="diff"),
    path("versions/<id:pk>/download/", views.VersionDownload.as_view(), name="version_download"),
]
