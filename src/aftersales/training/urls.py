from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.SessionList.as_view(), name="session_list"),
    path("new/", views.SessionCreate.as_view(), name="session_create"),
    path("<id:pk>/", views.SessionDetail.as_view(), name="session_detail"),
    # One page per verb on a session: training:<name>
    *(path(f"<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name) for view in views.SESSION_ACTIONS),
    path("materials/<id:pk>/", views.MaterialDownload.as_view(), name="material"),
    path("feedback/<str:token>/", views.FeedbackByLink.as_view(), name="feedback_by_link"),
    path("handover/", views.HandoverList.as_view(), name="handover_list"),
    path("handover/<id:pk>/", views.HandoverDetail.as_view(), name="handover"),
    path("handover/<id:pk>/add/", views.HandoverAdd.as_view(), name="handover_add"),
    path("handover/items/<id:pk>/demonstrated/", views.MarkDemonstrated.as_view(), name="item_demonstrated"),
    path("handover/items/<id:pk>/reopen/", views.ReopenItem.as_view(), name="item_reopen"),
]
