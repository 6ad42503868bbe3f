"""The product's URLs. Until service/api.py's register() calls register_reports(router), the compliance
summary route (/api/reports/sla-compliance/) is added here so the benchmark can measure it; once it is
registered by the product, this module adds nothing."""

from django.urls import NoReverseMatch, include, path, reverse
from rest_framework.routers import DefaultRouter

from aftersales.urls import handler400, handler403, handler404, handler500, urlpatterns as product  # noqa: F401

urlpatterns = list(product)
try:
    reverse("sla-compliance-list")
    ADDED_BY_BENCH = False
except NoReverseMatch:
    from aftersales.reports.api import register_reports

    _router = DefaultRouter(trailing_slash=True)
    register_reports(_router)
    urlpatterns.insert(0, path("api/", include(_router.urls)))
    ADDED_BY_BENCH = True
