from django.urls import path

from . import views

app_name = "contracts"
urlpatterns = [
    path("", views.ContractList.as_view(), name="contract_list"),
    path("new/", views.ContractCreate.as_view(), name="contract_create"),
    path("<id:pk>/", views.ContractDetail.as_view(), name="contract_detail"),
    path("<id:pk>/edit/", views.ContractUpdate.as_view(), name="contract_update"),
    path("<id:pk>/renew/", views.ContractRenew.as_view(), name="contract_renew"),
    path("<id:pk>/notice/", views.ContractCancel.as_view(), name="contract_cancel"),
    path("periods/<id:pk>/correct/", views.PeriodCorrect.as_view(), name="period_correct"),
]
