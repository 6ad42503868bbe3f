"""Issue 23 §4: the engineer's round survives a lost connection. The round page (with JavaScript) keeps each answer
on the phone first (static/inspections/queue.js, offline-round.js); this service worker keeps a copy of the round
pages and their assets, so a reload without a connection still shows the round and the answers waiting to be sent.

Served from /inspections/sw.js, so its default scope (/inspections/) covers the round pages without a
Service-Worker-Allowed header. It holds no data of its own; it is for the engineers who record rounds (login and
do_rounds, like the pages it keeps)."""

import json

from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views import View

from aftersales.core.views import ScopedMixin

from .models import InspectionRound

# Bump when the worker's logic changes: the new worker drops the caches of the old one.
CACHE_VERSION = "1"

# The assets every round page loads (base.html and the round page), kept on install so the first visit's page works
# offline even though it was loaded before the worker existed. Fetched network-first like everything else.
ASSETS = [
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff",
    "vendor/htmx/htmx.min.js",
    "aftersales/app.css",
    "aftersales/app.js",
    "aftersales/favicon.svg",
    "inspections/round.js",
    "inspections/queue.js",
    "inspections/offline-round.js",
]


class ServiceWorker(ScopedMixin, View):
    model = InspectionRound
    permission_required = "inspections.do_rounds"

    def get(self, request):
        scope = reverse("inspections:round_list")
        config = {"cache": f"aftersales-rounds-v{CACHE_VERSION}", "rounds": f"{scope}rounds/",
                  "static": static(""), "assets": [static(path) for path in ASSETS]}
        response = TemplateResponse(request, "inspections/offline_sw.js", {"config": json.dumps(config)},
                                    content_type="text/javascript; charset=utf-8")
        response["Cache-Control"] = "no-cache"  # the browser checks for a new worker on every visit
        response["Service-Worker-Allowed"] = scope
        return response
