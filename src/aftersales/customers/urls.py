from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerList.as_view(), name="customer_list"),
    path("new/", views.CustomerCreate.as_view(), name="customer_create"),
    path("<id:pk>/", views.CustomerDetail.as_view(), name="customer_detail"),
    path("<id:pk>/edit/", views.CustomerUpdate.as_view(), name="customer_update"),
    path("<id:pk>/contacts/new/", views.ContactCreate.as_view(), name="contact_create"),
    path("projects/", views.ProjectList.as_view(), name="project_list"),
    path("projects/new/", views.ProjectCreate.as_view(), name="project_create"),
    path("projects/<id:pk>/", views.ProjectDetail.as_view(), name="project_detail"),
    path("projects/<id:pk>/edit/", views.ProjectUpdate.as_view(), name="project_update"),
    path("projects/<id:pk>/milestones/new/", views.MilestoneCreate.as_view(), name="milestone_create"),
    path("milestones/<id:pk>/edit/", views.MilestoneUpdate.as_view(), name="milestone_update"),
    path("milestones/<id:pk>/extend/", views.ExtensionCreate.as_view(), name="extension_create"),
]
