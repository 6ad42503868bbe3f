from django.urls import path
from django.views.decorators.http import require_POST

from . import views

app_name = "journal"
urlpatterns = [
    path("", views.MyLog.as_view(), name="my_log"),
    path("start/", require_POST(views.StartDay.as_view()), name="start_day"),
    path("team/", views.TeamDay.as_view(), name="team"),
    path("entries/", views.Entries.as_view(), name="entries"),
    path("<id:pk>/", views.LogDetail.as_view(), name="log_detail"),
    path("<id:pk>/add/", views.AddEntry.as_view(), name="entry_add"),
    path("<id:pk>/submit/", require_POST(views.SubmitDay.as_view()), name="submit_day"),
    path("entries/<id:pk>/edit/", views.EditEntry.as_view(), name="entry_edit"),
    path("entries/<id:pk>/remove/", require_POST(views.RemoveEntry.as_view()), name="entry_remove"),
]
