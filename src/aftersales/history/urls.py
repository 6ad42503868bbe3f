from django.urls import path

from . import views

app_name = "history"
urlpatterns = [
    path("", views.history_home, name="home"),
    path("customers/<int:pk>/", views.CustomerHistory.as_view(), name="customer"),
    path("projects/<int:pk>/", views.ProjectHistory.as_view(), name="project"),
]
