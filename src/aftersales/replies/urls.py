from django.urls import path
from django.views.decorators.http import require_POST

from . import views

app_name = "replies"
urlpatterns = [
    path("", views.ReplyList.as_view(), name="list"),
    path("new/", views.ReplyCreate.as_view(), name="create"),
    path("<id:pk>/", views.ReplyEdit.as_view(), name="edit"),
    path("<id:pk>/used/", require_POST(views.ReplyUsed.as_view()), name="used"),
]
