"""Issue 25 §1 (LOG-1): the customer's history at N requests, in-process.

    AFTERSALES_DATA_DIR=bench/data/1000000 .venv/bin/python bench/history_pages.py [--repeat 3]

Prints one JSON object: for the busiest customer (most requests), a small one (fewest) and the busiest project, as
the general manager — the first page of /history/, a page 20 cursors deep (the "older" link followed 20 times), and
the first page filtered to one kind (work orders) — and the bench customer's contact's own first page: the median
and best wall time of `--repeat` calls, the number of queries, and the slowest query of the last call. Kinds whose
table the data set does not have yet (an app newer than the data set's migrations) are left out and listed.
Everything runs in a transaction that is rolled back (the login's session row), so the data set is left as it was.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")

import django

django.setup()

import bench_urls  # noqa: F401  (the URLconf first: it reverses a name while it is imported)
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.accounts.models import User
from aftersales.history import sources, timeline
from aftersales.service.models import ServiceRequest

META = json.loads((Path(os.environ["AFTERSALES_DATA_DIR"]) / "bench.json").read_text())
DEPTH = 20


def timed(fn, repeat):
    runs, queries, slowest = [], 0, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
        slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
    return {"median_ms": round(statistics.median(runs), 1), "best_ms": round(min(runs), 1), "queries": queries,
            "slowest_query_ms": round(float(slowest["time"]) * 1000, 1), "slowest_query": slowest["sql"][:90]}


def get(client, url, params=None):
    def call():
        response = client.get(url, params or {})
        assert response.status_code == 200, (url, response.status_code)
        return response
    return call


def deep_cursor(user, kinds, **where):
    cursor = None
    for _ in range(DEPTH):
        cursor = timeline.page(user, kinds=kinds, cursor=cursor, size=50, events=False, **where).next_cursor
        if cursor is None:
            return None
    return cursor


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    gm = User.objects.get(username=META["gm"])
    tables = set(connection.introspection.table_names())
    present = [slug for slug, kind in sources.KINDS.items() if kind.rows(gm).model._meta.db_table in tables]
    out = {"n": META["n"], "db": connection.vendor, "kinds": present,
           "kinds left out (no table in this data set)": sorted(set(sources.KINDS) - set(present))}
    counts = ServiceRequest.objects.values("customer_id").annotate(c=Count("pk")).order_by("-c", "customer_id")
    busiest, small = counts.first(), counts.order_by("c", "customer_id").first()
    project = (ServiceRequest.objects.values("project_id").annotate(c=Count("pk")).order_by("-c", "project_id")
               .first())
    with transaction.atomic():
        client = Client()
        client.force_login(gm)
        subjects = [("busiest customer", "customer", busiest["customer_id"], busiest["c"]),
                    ("small customer", "customer", small["customer_id"], small["c"]),
                    ("busiest project", "project", project["project_id"], project["c"])]
        for label, what, pk, requests in subjects:
            url = reverse(f"history:{what}", args=[pk])
            get(client, url, {"kind": present})()  # warm: templates, per-process caches
            entry = {"id": pk, "requests": requests}
            entry["first page"] = timed(get(client, url, {"kind": present}), args.repeat)
            cursor = deep_cursor(gm, present, **{what: pk})
            if cursor:
                entry[f"page {DEPTH + 1} ({DEPTH} cursors deep)"] = timed(
                    get(client, url, {"kind": present, "cursor": cursor}), args.repeat)
            entry["first page, work orders only"] = timed(get(client, url, {"kind": ["work_order"]}), args.repeat)
            out[label] = entry
        contact = User.objects.get(username=META["customer_user"])
        client = Client()
        client.force_login(contact)
        url = reverse("history:customer", args=[contact.customer_id])
        get(client, url, {"kind": present})()
        out["customer contact, own history"] = {
            "id": contact.customer_id, "requests": ServiceRequest.objects.filter(customer_id=contact.customer_id).count(),
            "first page": timed(get(client, url, {"kind": present}), args.repeat)}
        transaction.set_rollback(True)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
