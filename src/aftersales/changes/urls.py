from django.urls import path

from . import views

app_name = "changes"
urlpatterns = [
    path("", views.NoticeList.as_view(), name="notice_list"),
    path("new/", views.NoticeCreate.as_view(), name="notice_create"),
    path("<id:pk>/", views.NoticeDetail.as_view(), name="notice_detail"),
    # One page per verb on a notice: changes:<name>
    *(path(f"<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name) for view in views.NOTICE_ACTIONS),
    path("tests/<id:pk>/evidence/", views.EvidenceDownload.as_view(), name="evidence"),
]
