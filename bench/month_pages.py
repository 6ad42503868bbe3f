"""Issue 24 §5: the manager's month page and a customer's monthly report at N requests, in-process.

    AFTERSALES_DATA_DIR=bench/data/1000000 .venv/bin/python bench/month_pages.py [--repeat 5]

Prints one JSON object: for the general manager's and a department manager's home (`/?month=`) of the busiest
month, and for the busiest month of a regular customer — its facts (proof/facts.py), the facts and PDF together
(what the worker does before it writes), and its web page and PDF download as the customer's contact — the median
and best wall time of `--repeat` calls and the number of queries; and the facts of the bench's hot customer's month.
The contact and the report rows are written inside a transaction that is rolled back, so the data set is left as
it was. Run it on a quiet machine.
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

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.db.models.functions import TruncMonth  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from aftersales.accounts import roles  # noqa: E402
from aftersales.accounts.models import Position, User  # noqa: E402
from aftersales.customers.models import Customer  # noqa: E402
from aftersales.proof import facts as proof_facts  # noqa: E402
from aftersales.proof import services as proof  # noqa: E402
from aftersales.service.models import ServiceRequest  # noqa: E402
from aftersales.service.reports import Period  # noqa: E402

META = json.loads((Path(os.environ["AFTERSALES_DATA_DIR"]) / "bench.json").read_text())


def timed(fn, repeat):
    runs, queries, result = [], 0, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = fn()
            runs.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
    return {"median_ms": round(statistics.median(runs), 1), "best_ms": round(min(runs), 1), "queries": queries}, result


def get(client, url):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        return response
    return call


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    out = {"n": META["n"], "db": connection.vendor}

    month = (ServiceRequest.objects.annotate(m=TruncMonth("created_at", tzinfo=Period.month(2026, 1).start.tzinfo))
             .values("m").annotate(c=Count("pk")).order_by("-c").first())
    key = month["m"].strftime("%Y-%m")
    out["month"] = {"month": key, "requests": month["c"]}
    for label, user in (("general manager", User.objects.get(username=META["gm"])),
                        ("department manager", User.objects.filter(position=Position.DEPARTMENT_MANAGER,
                                                                   is_active=True).order_by("pk").first())):
        client = Client()
        client.force_login(user)
        get(client, f"/?month={key}")()  # warm: per-worker caches, templates
        out[f"home of the {label}"], _ = timed(get(client, f"/?month={key}"), args.repeat)

    # The busiest month of a regular customer (the bench's hot customer, META["customer"], holds 20,000 requests in
    # its last month to load the desk queue: its month is measured apart, facts only).
    zone = Period.month(2026, 1).start.tzinfo
    busiest = (ServiceRequest.objects.exclude(customer_id=META["customer"])
               .annotate(m=TruncMonth("created_at", tzinfo=zone))
               .values("customer_id", "m").annotate(c=Count("pk")).order_by("-c", "customer_id").first())
    customer = Customer.objects.get(pk=busiest["customer_id"])
    year, mon = busiest["m"].year, busiest["m"].month
    out["customer month"] = {"customer": customer.pk, "month": f"{year}-{mon:02d}", "requests": busiest["c"]}
    with transaction.atomic():  # the contact, the report rows and their messages are rolled back at the end
        contact = User.objects.create_user(username="bench_month_contact", password=META["password"],
                                           customer=customer, full_name="bench contact")
        contact.groups.add(Group.objects.get(name=roles.CUSTOMER_USER))
        out["report facts"], _ = timed(lambda: proof_facts.build(customer, Period.month(year, mon), contact),
                                       args.repeat)
        out["report facts and PDF (the worker, before it writes)"], prepared = timed(
            lambda: proof.prepare(customer, year, mon, 1), 1)
        out["report PDF bytes"] = len(prepared[3].content) if prepared[3] else None
        report = proof.generate(customer, year, mon) or proof.regenerate(
            customer, year, mon, by=User.objects.get(username=META["gm"]))
        client = Client()
        client.force_login(contact)
        get(client, report.get_absolute_url())()
        out["report web page (customer)"], _ = timed(get(client, report.get_absolute_url()), args.repeat)
        out["report PDF download (customer)"], _ = timed(get(client, reverse("proof:report_pdf", args=[report.pk])),
                                                        args.repeat)
        hot = Customer.objects.get(pk=META["customer"])
        hot_month = (ServiceRequest.objects.filter(customer=hot).annotate(m=TruncMonth("created_at", tzinfo=zone))
                     .values("m").annotate(c=Count("pk")).order_by("-c").first())
        out["hot customer month"] = {"customer": hot.pk, "month": hot_month["m"].strftime("%Y-%m"),
                                     "requests": hot_month["c"]}
        out["hot customer month: facts"], _ = timed(lambda: proof_facts.build(
            hot, Period.month(hot_month["m"].year, hot_month["m"].month),
            User.objects.get(username=META["customer_user"])), 1)
        transaction.set_rollback(True)
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
