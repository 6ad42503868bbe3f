"""Issue 21 §8: the search workload, in process, on generated data (SQLite or PostgreSQL).

    .venv/bin/python bench/search.py --n 1000000                  # bench/data/1000000/search-<time>.json
    .venv/bin/python bench/search.py --n 1000000 --db postgres

For each kind of search (number, phone as the desk types it, a contact's phone, serial number, contract number,
full name, a title word that matches many requests, a text that matches none) and each scope (a see-all general
manager, a branch dispatcher, a customer's user): the request list page `/service/?q=…` and the top bar
`/service/search/?q=…` through Django's test client, `--repeat` calls with a different sample each time (median,
p95, max in ms), the number of queries of a page, and the plan (EXPLAIN QUERY PLAN / EXPLAIN) of each query of the
first call. `--before` adds the rule of the code before issue 21 (number or title contains, ORM) on the same data
for comparison. Read-only: nothing is written to the database. Bounded: at most --repeat calls per case.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from generate import bench_database, data_dir_for


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default=os.environ.get("AFTERSALES_DB", "sqlite"))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--before", action="store_true", help="also time the rule of the code before issue 21")
    args = parser.parse_args()
    data_dir = data_dir_for(args.n, args.db)
    with bench_database(args.db, args.n) as db_env:
        os.environ.update({**db_env, "AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_LOG_LEVEL": "WARNING",
                           "DJANGO_SETTINGS_MODULE": "bench_settings"})
        result = measure(args, data_dir)
    out = data_dir / f"search-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(f"results: {out}")
    return 0


def measure(args, data_dir: Path) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from aftersales.accounts.models import User
    from aftersales.core.scoping import visible
    from aftersales.service import search
    from aftersales.service.models import ServiceRequest

    meta = json.loads((data_dir / "bench.json").read_text())
    explain = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    rng = random.Random(21)
    users = {"gm (all branches)": meta["gm"], "dispatcher (one branch)": meta["dispatcher"],
             "customer user": meta["customer_user"]}

    def samples(user, kind: str, k: int) -> list[str]:
        """k search texts of `kind` that name requests `user` may see (a text that finds nothing for 'none')."""
        mine = visible(ServiceRequest.objects.all(), user)
        top = mine.order_by("-pk").values_list("pk", flat=True).first() or 1
        picked = []
        for _ in range(k * 20):
            if len(picked) == k:
                break
            row = mine.filter(pk__lte=rng.randint(1, top)).order_by("-pk").values(
                "pk", "number", "reporter_phone", "reporter_name", "title", "project__contract_number").first()
            if row is None:
                continue
            if kind == "number":
                picked.append(row["number"])
            elif kind == "number, digits only":
                picked.append(str(row["pk"]))
            elif kind == "phone, as typed":
                digits = search.PHONE_DROPPED.sub("", row["reporter_phone"])[-11:]
                picked.append(f"{digits[:3]} {digits[3:7]} {digits[7:]}")
            elif kind == "serial number":
                serial = ServiceRequest.devices.through.objects.filter(servicerequest__in=mine.filter(
                    pk__lte=row["pk"]).order_by("-pk").values("pk")[:50]).values_list("device__serial_number", flat=True).first()
                if serial:
                    picked.append(serial)
            elif kind == "contract number":
                picked.append(row["project__contract_number"])
            elif kind == "full name":
                picked.append(row["reporter_name"])
            elif kind == "title word":
                picked.append(row["title"][-5:])  # the fault, e.g. 摄像机无图像's last five characters
            elif kind == "text matching nothing":
                picked.append(f"没有这样的故障{rng.randint(0, 10**6)}")
        return picked

    def timed_get(client, path, texts):
        runs, queries, statuses = [], None, {}
        for text in texts:
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path, {"q": text})
            runs.append((time.perf_counter() - started) * 1000)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            if queries is None:
                queries = [q["sql"] for q in captured.captured_queries]
        runs.sort()
        return {"calls": len(runs), "median_ms": round(statistics.median(runs), 2),
                "p95_ms": round(runs[max(0, int(len(runs) * 0.95) - 1)], 2), "max_ms": round(runs[-1], 2),
                "queries": len(queries or []), "statuses": statuses, "sql": queries or [],
                "plans": [plan(q) for q in queries or [] if q.lstrip().upper().startswith("SELECT")]}

    def plan(sql: str) -> list[str]:
        with connection.cursor() as cursor:
            try:
                cursor.execute(explain + sql)
            except Exception as error:  # noqa: BLE001 - a plan that cannot be read is reported, not fatal
                return [f"(no plan: {error})"]
            return [" ".join(str(c) for c in row[-1:]) for row in cursor.fetchall()]

    kinds = ["number", "number, digits only", "phone, as typed", "contact phone", "serial number", "contract number",
             "full name", "title word", "text matching nothing"]
    result = {"n": args.n, "db": connection.vendor, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "repeat": args.repeat, "title_scan_limit": search.TITLE_SCAN_LIMIT, "cases": {}}
    for label, username in users.items():
        user = User.objects.get(username=username)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        client.get("/service/")  # warm: permissions, filter choices
        for kind in kinds:
            if kind == "contact phone":
                contact = User.objects.filter(customer__isnull=False).exclude(phone="").values_list("phone", flat=True).first()
                if contact is None:
                    continue
                texts = [contact] * args.repeat
            else:
                texts = samples(user, kind, args.repeat)
            if not texts:
                continue
            case = {"list": timed_get(client, "/service/", texts), "top bar": timed_get(client, "/service/search/", texts[:10])}
            if args.before and kind in ("number", "title word", "text matching nothing"):
                def old_rule(text, user=user):  # the list's search before issue 21: a page of 25 and its COUNT
                    found = visible(ServiceRequest.objects.all(), user).filter(Q(number__icontains=text) | Q(title__icontains=text))
                    return found.count(), list(found.order_by("-pk").values_list("pk", flat=True)[:25])
                runs = []
                for text in texts[:5]:
                    started = time.perf_counter()
                    old_rule(text)
                    runs.append((time.perf_counter() - started) * 1000)
                case["before (number or title contains, COUNT + page)"] = {"calls": len(runs), "median_ms": round(statistics.median(runs), 2)}
            result["cases"][f"{label} · {kind}"] = case
            print(f"{label:26s} {kind:22s} list {case['list']['median_ms']:8.1f} ms (p95 {case['list']['p95_ms']:.1f}, "
                  f"{case['list']['queries']} queries)  top bar {case['top bar']['median_ms']:8.1f} ms"
                  + (f"  before {case['before (number or title contains, COUNT + page)']['median_ms']:.1f} ms" if "before (number or title contains, COUNT + page)" in case else ""),
                  flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
