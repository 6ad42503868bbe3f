from django.urls import path

from . import views

app_name = "parts"

urlpatterns = [
    path("stock/", views.StockList.as_view(), name="stock"),
    path("low/", views.LowStockList.as_view(), name="low_stock"),
    path("movements/", views.MovementList.as_view(), name="movements"),
    path("movements/<id:pk>/", views.MovementDetail.as_view(), name="movement_detail"),
    path("receive/", views.ReceiveView.as_view(), name="receive"),
    path("transfer/", views.TransferView.as_view(), name="transfer"),
    path("adjust/", views.AdjustView.as_view(), name="adjust"),
    path("reserve/", views.ReserveView.as_view(), name="reserve"),
    path("defective/", views.DefectiveView.as_view(), name="defective"),
    path("levels/", views.LevelView.as_view(), name="level"),
    path("catalogue/", views.PartList.as_view(), name="part_list"),
    path("catalogue/new/", views.PartCreate.as_view(), name="part_create"),
    path("catalogue/<id:pk>/", views.PartDetail.as_view(), name="part_detail"),
    path("catalogue/<id:pk>/edit/", views.PartUpdate.as_view(), name="part_update"),
    path("van/", views.MyVan.as_view(), name="my_van"),
]
