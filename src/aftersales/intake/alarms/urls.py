from django.urls import path

from . import views

# Included at /intake/alarms/ in the "intake" namespace. No page takes an object id in its path:
# actions post the id to the list page (scoped lookup, 404 for anything the user may not see).
urlpatterns = [
    path("unmatched/", views.UnmatchedAlarms.as_view(), name="alarm_unmatched"),
    path("keys/", views.IntegrationKeys.as_view(), name="key_list"),
    path("keys/new/", views.IntegrationKeyCreate.as_view(), name="key_create"),
]
