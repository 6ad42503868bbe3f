from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.CustomerList.as_view(), name="customer_list"),
    path("new/", views.CustomerCreate.as_view(), name="customer_create"),
    path("<int:pk>/", views.CustomerDetail.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerUpdate.as_view(), name="customer_update"),
    path("<int:pk>/contacts/new/", views.ContactCreate.as_view(), name="contact_create"),
    path("projects/", views.ProjectList.as_view(), name="project_list"),
    path("projects/new/", views.ProjectCreate.as_view(), name="project_create"),
    path("projects/<int:pk>/", views.ProjectDetail.as_view(), name="project_detail"),
    path("projects/<int:pk>/edit/", views.ProjectUpdate.as_view(), name="project_update"),
    path("projects/<int:pk>/milestones/new/", views.MilestoneCreate.as_view(), name="milestone_create"),
    path("milestones/<int:pk>/edit/", views.MilestoneUpdate.as_view(), name="milestone_update"),
    path("milestones/<int:pk>/extend/", views.ExtensionCreate.as_view(), name="extension_create"),
]
