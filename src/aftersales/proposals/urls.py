from django.urls import path

from . import views

app_name = "proposals"
urlpatterns = [
    path("", views.ProposalList.as_view(), name="proposal_list"),
    path("new/", views.ProposalCreate.as_view(), name="proposal_create"),
    path("<id:pk>/", views.ProposalDetail.as_view(), name="proposal_detail"),
    # One page per verb on a proposal: proposals:<name>
    *(path(f"<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name)
      for view in views.PROPOSAL_ACTIONS),
    path("choose/<str:token>/", views.ProposalByLink.as_view(), name="proposal_by_link"),
    path("hazards/", views.HazardList.as_view(), name="hazard_list"),
    path("hazards/new/", views.HazardCreate.as_view(), name="hazard_create"),
    path("hazards/<id:pk>/", views.HazardDetail.as_view(), name="hazard_detail"),
    *(path(f"hazards/<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name)
      for view in views.HAZARD_ACTIONS),
    path("hazards/confirm/<str:token>/", views.HazardByLink.as_view(), name="hazard_by_link"),
]
