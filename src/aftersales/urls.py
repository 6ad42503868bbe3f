from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from aftersales.accounts import views as accounts_views
from aftersales.accounts.api import register as register_accounts_api
from aftersales.assets.api import register as register_assets_api
from aftersales.contracts import api as contracts_api
from aftersales.core import views as core_views
from aftersales.core.health import health_view
from aftersales.customers.api import register as register_customers_api
from aftersales.intake.api import register as register_intake_api
from aftersales.reports import views as reports_views
from aftersales.reports.api import register_reports as register_reports_api
from aftersales.repairs.api import register as register_repairs_api
from aftersales.inspections.api import register as register_inspections_api
from aftersales.notify.api import register as register_notify_api
from aftersales.parts.api import register as register_parts_api
from aftersales.service.api import register as register_service_api
from aftersales.service.api_config import register as register_config_api
from aftersales.visits.api import register as register_visits_api
from aftersales.training import api as training_api
from aftersales.changes import api as changes_api
from aftersales.documents import api as documents_api
from aftersales.history import api as history_api
from aftersales.journal import api as journal_api
from aftersales.knowledge import api as knowledge_api
from aftersales.proposals import api as proposals_api
from aftersales.replies import api as replies_api

router = DefaultRouter()
register_accounts_api(router)
register_customers_api(router)
register_assets_api(router)
register_notify_api(router)
register_service_api(router)
register_reports_api(router)  # issue 24: /api/reports/sla-compliance/, /api/reports/figures/
register_config_api(router)  # issue 21 §6: /api/config/…
register_intake_api(router)
contracts_api.register(router)  # issue 22 §1: /api/contracts/…, /api/contract-periods/…
register_parts_api(router)  # issue 22 §5: /api/parts/, /api/stock-locations/, /api/stock/, /api/stock-movements/
register_repairs_api(router)
register_visits_api(router)  # issue 23 §7-§8: /api/visits/, /api/visit-schedules/, /api/visit-follow-ups/, /api/surveys/
register_inspections_api(router)  # issue 23: /api/checklists/, /api/inspection-plans/, /api/inspection-rounds/, …
training_api.register(router)  # issue 23 §9: /api/training-sessions/, /api/handover-items/, /api/handover-projects/
journal_api.register(router)  # issue 25: daily service logs
documents_api.register(router)  # issue 25: versioned project documents
changes_api.register(router)  # issue 25: change notices
proposals_api.register(router)  # issue 25: hidden-danger reports, proposals
knowledge_api.register(router)  # issue 25: knowledge base
replies_api.register(router)  # issue 25: canned replies
history_api.register(router)  # issue 25: the customer's history

urlpatterns = [
    path("", reports_views.home, name="home"),
    path("start/", reports_views.landing, name="landing"),
    path("health/", health_view, name="health"),
    # browsers ask for /favicon.ico whatever the page links (a 404 line in the log for every new visitor)
    path("favicon.ico", core_views.favicon),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", accounts_views.PasswordChange.as_view(), name="password_change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("aftersales.accounts.urls")),
    path("customers/", include("aftersales.customers.urls")),
    path("devices/", include("aftersales.assets.urls")),
    path("contracts/", include("aftersales.contracts.urls")),
    path("service/", include("aftersales.service.urls")),
    path("intake/", include("aftersales.intake.urls")),
    path("parts/", include("aftersales.parts.urls")),
    path("repairs/", include("aftersales.repairs.urls")),
    path("visits/", include("aftersales.visits.urls")),
    path("inspections/", include("aftersales.inspections.urls")),
    path("training/", include("aftersales.training.urls")),  # issue 23 §9: TRN-1, TRN-2
    path("billing/", include("aftersales.billing.urls")),
    path("notifications/", include("aftersales.notify.urls")),
    path("reports/", include("aftersales.reports.urls")),  # issue 24: RPT-1
    path("print/", include("aftersales.printing.urls")),  # issue 24: RPT-2
    path("proof/", include("aftersales.proof.urls")),  # issue 24 §4
    path("journal/", include("aftersales.journal.urls")),  # issue 25 §2
    path("documents/", include("aftersales.documents.urls")),  # issue 25 §3
    path("changes/", include("aftersales.changes.urls")),  # issue 25 §4
    path("proposals/", include("aftersales.proposals.urls")),  # issue 25 §4-§5
    path("knowledge/", include("aftersales.knowledge.urls")),  # issue 25 §6
    path("replies/", include("aftersales.replies.urls")),  # issue 25 §7
    path("history/", include("aftersales.history.urls")),  # issue 25 §1
    path("admin/", admin.site.urls),
    # CUS-4: covered on day D? Beside the device's own routes (the contracts app answers it).
    path("api/devices/<id:pk>/coverage/", contracts_api.DeviceCoverageView.as_view(), name="device-coverage"),
    path("api/", include(router.urls)),
    path("api/auth/token/", include("aftersales.accounts.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's setup script as a file: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error
