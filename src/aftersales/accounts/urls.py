from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("branches/", views.BranchList.as_view(), name="branch_list"),
    path("branches/<id:pk>/", views.BranchDetail.as_view(), name="branch_detail"),
    path("staff/", views.StaffList.as_view(), name="staff_list"),
    path("staff/<id:pk>/", views.StaffDetail.as_view(), name="staff_detail"),
    path("roster/", views.Roster.as_view(), name="roster"),
]
