from django.urls import path

from . import views

app_name = "repairs"
urlpatterns = [
    path("", views.Board.as_view(), name="board"),
    path("new/", views.CaseCreate.as_view(), name="case_create"),
    path("loans/", views.LoanList.as_view(), name="loan_list"),
    path("loans/<id:pk>/return/", views.ReturnLoan.as_view(), name="return_loan"),
    path("rma/", views.RmaList.as_view(), name="rma_list"),
    path("<id:pk>/", views.CaseDetail.as_view(), name="case_detail"),
    # One page per step (repairs.transitions.TRANSITIONS), the loan form and the RMA form: repairs:<name>
    *(path(f"<id:pk>/{view.name.replace('_', '-')}/", view.as_view(), name=view.name) for view in views.ACTION_VIEWS),
]
