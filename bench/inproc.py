"""In-process figures for bench/run.py (run as a subprocess with AFTERSALES_DATA_DIR set; prints one JSON object).

* queries per call of each benchmarked endpoint (Django test client + CaptureQueriesContext), with the SQL and
  EXPLAIN QUERY PLAN (PostgreSQL: EXPLAIN) of each query (the evidence for index advice);
* the SLA sweep with nothing due and with 1,000 due (in a transaction rolled back afterwards, so it repeats);
* the compliance summary for one month (all branches) and one customer's year;
* the data floor: the queue page query, its COUNT and the compliance aggregate run directly with sqlite3 (or psycopg);
* the CSV export of one customer's year, if the product has one;
* a pyinstrument profile of the hot calls, when pyinstrument is installed.
"""

import json
import os
import sqlite3
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from aftersales.accounts.models import User  # noqa: E402
from aftersales.core import clock  # noqa: E402
from aftersales.notify.models import OutboxMessage  # noqa: E402
from aftersales.reports import figures  # noqa: E402
from aftersales.service import reports, sweep  # noqa: E402
from aftersales.service.models import OPEN_STATES, ServiceRequest, SlaAlert, TimelineEvent  # noqa: E402

META = json.loads((Path(os.environ["AFTERSALES_DATA_DIR"]) / "bench.json").read_text())
DB_PATH = Path(os.environ["AFTERSALES_DATA_DIR"]) / "aftersales.sqlite3"
PG = connection.vendor == "postgresql"
DRIVER = "psycopg" if PG else "sqlite3"  # the data floor's
EXPLAIN = "EXPLAIN " if PG else "EXPLAIN QUERY PLAN "


def raw_connection():
    """The data floor's connection, outside Django: sqlite3 on the file, or psycopg on the same database (autocommit,
    parameters bound server-side, never prepared: every execution is planned with its values)."""
    if not PG:
        return sqlite3.connect(DB_PATH)
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None, host=db["HOST"],
                           port=db["PORT"], autocommit=True, prepare_threshold=None)


class Capture(CaptureQueriesContext):
    """CaptureQueriesContext on an emptied log (its 9,000-entry deque otherwise stops growing and the slice is empty),
    plus an exact count through an execute wrapper (the sweep of 1,000 runs more than 9,000 queries)."""

    def __enter__(self):
        self.connection.queries_log.clear()
        self.count = 0

        def counter(execute, sql, params, many, context):
            self.count += 1
            return execute(sql, params, many, context)

        self._wrapper = self.connection.execute_wrapper(counter)
        self._wrapper.__enter__()
        return super().__enter__()

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)
        return super().__exit__(*exc)


def timed(fn, repeat=5):
    runs = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), min(runs), result


def plan(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(EXPLAIN + sql)
        return [row[-1] for row in cursor.fetchall()]


BOUND = {}  # label -> [(sql with ? (sqlite3) or %s (psycopg), params)] as Django's SQL compiler made them


def call(client, method, path, label=None, **kwargs):
    sent = []

    def keep(execute, sql, params, many, context):
        sent.append((sql if PG else sql.replace("%s", "?"), list(params or ())))
        return execute(sql, params, many, context)

    with Capture(connection) as ctx, connection.execute_wrapper(keep):
        response = getattr(client, method)(path, **kwargs)
    queries = [q["sql"] for q in ctx.captured_queries]
    if label:
        BOUND[label] = sent
    return response, queries


def endpoint_queries(params: dict) -> dict:
    gm = User.objects.get(username=META["gm"])
    dispatcher = User.objects.get(username=META["dispatcher"])
    customer = User.objects.get(username=META["customer_user"])
    clients = {}
    for name, user in (("gm", gm), ("dispatcher", dispatcher), ("customer", customer)):
        clients[name] = Client(HTTP_HOST="127.0.0.1")
        clients[name].force_login(user)
    rid = params["request_ids"][0]
    month = params["months"][len(params["months"]) // 2]
    cases = [
        ("desk queue API", "gm", "get", f"/api/requests/queue/?branch={params['branches'][0]}", {}),
        ("desk queue API, page_size=100", "gm", "get", f"/api/requests/queue/?branch={params['branches'][0]}&page_size=100", {}),
        ("desk queue HTML", "gm", "get", f"/service/desk/?branch={params['branches'][0]}", {}),
        ("request page API", "dispatcher", "get", f"/api/requests/{rid}/", {}),
        ("request page HTML", "dispatcher", "get", f"/service/{rid}/", {}),
        ("request list by customer and month, API", "dispatcher", "get",
         f"/api/requests/?customer={params['branch_customers'][0]}&created_after={month[0]}&created_before={month[1]}", {}),
        ("customer portal list", "customer", "get", "/service/", {}),
        ("compliance summary API (month, all branches)", "gm", "get",
         f"/api/reports/sla-compliance/?month={params['month_keys'][len(params['month_keys']) // 2]}", {}),
    ]
    out = {}
    with transaction.atomic():
        for label, who, method, path, kw in cases:
            response, queries = call(clients[who], method, path, label, **kw)
            out[label] = {"status": response.status_code, "queries": len(queries),
                          "sql": queries, "plans": [plan(q) if q.lstrip().upper().startswith(("SELECT", "WITH")) else []
                                                    for q in queries]}
        # writes, rolled back
        response, queries = call(clients["dispatcher"], "post", "/api/requests/", content_type="application/json",
                                 data={"project": params["branch_projects"][0], "priority": "general",
                                       "title": "inproc", "description": "inproc"})
        out["create request API"] = {"status": response.status_code, "queries": len(queries), "sql": queries, "plans": []}
        new_id = response.json().get("id") if response.status_code == 201 else None
        if new_id:
            response, queries = call(clients["dispatcher"], "post", f"/api/requests/{new_id}/reply/",
                                     content_type="application/json", data={"mode": "phone", "plan": "x"})
            out["reply API"] = {"status": response.status_code, "queries": len(queries), "sql": queries, "plans": []}
        alarm_client = Client(HTTP_HOST="127.0.0.1")
        for label, serial in (("alarm event, new", params["alarm_serials"][0]), ("alarm event, already open", params["alarm_serials"][0])):
            response, queries = call(alarm_client, "post", "/api/alarms/events/", content_type="application/json",
                                     data={"device": {"serial": serial}, "type": "tamper", "state": "raised"},
                                     HTTP_AUTHORIZATION=f"Bearer {META['integration_key']}")
            out[label] = {"status": response.status_code, "queries": len(queries), "sql": queries,
                          "plans": [plan(q) if q.lstrip().upper().startswith("SELECT") else [] for q in queries]}
        transaction.set_rollback(True)
    return out


def sweep_figures() -> dict:
    out = {}
    upcoming = ServiceRequest.objects.filter(next_check_at__isnull=False).order_by("next_check_at").values_list(
        "next_check_at", flat=True).first()
    now = clock.now()
    if upcoming is not None and upcoming <= now:
        now = upcoming - timedelta(seconds=1)  # "nothing due" exactly, whatever time passed since generation
    runs, counts = [], []
    for _ in range(20):
        with Capture(connection) as ctx:
            started = time.perf_counter()
            handled = sweep.sweep(now=now)
            runs.append((time.perf_counter() - started) * 1000)
        counts.append(ctx.count)
    out["nothing due"] = {"handled": handled, "median_ms": round(statistics.median(runs), 3), "min_ms": round(min(runs), 3),
                          "queries": sorted(set(counts)), "sql": ctx.captured_queries[0]["sql"] if ctx.captured_queries else "",
                          "plan": plan(ctx.captured_queries[0]["sql"]) if ctx.captured_queries else []}
    now = clock.now()
    with transaction.atomic():
        due_ids = list(ServiceRequest.objects.filter(state__in=OPEN_STATES, next_due_at__lte=now)
                       .order_by("-pk").values_list("pk", flat=True)[:1000])
        ServiceRequest.objects.filter(pk__in=due_ids).update(next_check_at=now - timedelta(minutes=1))
        before = (SlaAlert.objects.count(), TimelineEvent.objects.count(), OutboxMessage.objects.count())
        with Capture(connection) as ctx:
            started = time.perf_counter()
            handled = sweep.sweep(now=now)
            took = (time.perf_counter() - started) * 1000
        after = (SlaAlert.objects.count(), TimelineEvent.objects.count(), OutboxMessage.objects.count())
        transaction.set_rollback(True)
    out["1,000 due"] = {"made_due": len(due_ids), "handled": handled, "ms": round(took, 1), "queries": ctx.count,
                        "queries_per_request": round(ctx.count / max(handled, 1), 1),
                        "alerts_written": after[0] - before[0], "events_written": after[1] - before[1],
                        "outbox_rows_written": after[2] - before[2], "note": "in one outer transaction, rolled back (no commit/fsync per request)"}
    return out


def compliance_figures(params: dict) -> dict:
    gm = User.objects.get(username=META["gm"])
    key = params["month_keys"][len(params["month_keys"]) // 2]
    year, month = map(int, key.split("-"))
    period = reports.Period.month(year, month)
    with Capture(connection) as ctx:
        med, best, rows = timed(lambda: figures.sla_compliance(gm, figures.Filters(period=period)))
    sql = ctx.captured_queries[-1]["sql"]
    out = {"one month, all branches": {"month": key, "median_ms": round(med, 1), "min_ms": round(best, 1),
                                       "queries": ctx.count // 5, "rows": rows, "sql": sql, "plan": plan(sql)}}
    busiest = META["customer"]
    yperiod = reports.Period.year(year)
    with Capture(connection) as ctx:
        med, best, rows = timed(lambda: figures.sla_compliance(gm, figures.Filters(period=yperiod, customer_id=busiest)))
    ysql = ctx.captured_queries[-1]["sql"]
    out["one customer's year"] = {"year": year, "customer": busiest, "median_ms": round(med, 1), "min_ms": round(best, 1),
                                  "rows": rows, "sql": ysql, "plan": plan(ysql)}
    # the data floor of the aggregate: the same SQL straight through sqlite3 (psycopg)
    raw = raw_connection()
    out[f"raw {DRIVER}, one month"] = round(timed(lambda: raw.execute(sql).fetchall())[0], 1)
    out[f"raw {DRIVER}, customer year"] = round(timed(lambda: raw.execute(ysql).fetchall())[0], 1)
    raw.close()
    return out


def data_floor(endpoints: dict) -> dict:
    """The queue's own queries (COUNT + page), straight through sqlite3: once with the parameters bound as Django
    sends them, once with the values inlined as literals (SQLite can use a partial index only when it can prove the
    index's WHERE from the query, which it cannot for a bound parameter). On PostgreSQL through psycopg, the same
    two ways; there Django sends the literals (its psycopg backend binds on the client side)."""
    raw = raw_connection()
    out = {}
    for i, (sql, params) in enumerate(BOUND.get("desk queue API", [])):
        if "service_servicerequest" in sql and sql.lstrip().upper().startswith("SELECT"):
            bound = timed(lambda: raw.execute(sql, params).fetchall(), repeat=20)[0]
            inlined_sql = endpoints["desk queue API"]["sql"][i]
            inlined = timed(lambda: raw.execute(inlined_sql).fetchall(), repeat=20)[0]
            out[f"desk queue API query {i + 1}"] = {
                "ms": round(bound, 3), "ms_literals": round(inlined, 3), "sql": inlined_sql,
                "django_sends": "literals" if PG else "bound",
                "plan_bound": [r[-1] for r in raw.execute(EXPLAIN + sql, params)],
                "plan_literals": [r[-1] for r in raw.execute(EXPLAIN + inlined_sql)]}
    raw.close()
    return out


def _read_export(client, path: str, *, trace: bool) -> dict:
    """One export read to its end as a browser would: time to the first byte (BOM + header), to the first data row
    (the query has run and its first chunk is read) and to the last byte. With `trace`, the peak of Python's heap
    (tracemalloc, which slows the run: its times are not reported); without, the growth of the peak RSS."""
    import tracemalloc

    def peak_rss_kib() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)
    except OSError:
        pass
    rss_before = peak_rss_kib()
    if trace:
        tracemalloc.start()
    with Capture(connection) as ctx:
        started = time.perf_counter()
        response = client.get(path)
        chunks = iter(response.streaming_content)
        size = len(next(chunks))
        first_byte = time.perf_counter() - started
        first_row = None
        rows = 0
        for chunk in chunks:
            if first_row is None:
                first_row = time.perf_counter() - started
            rows += 1  # one chunk per line
            size += len(chunk)
        total = time.perf_counter() - started
        response.close()
    out = {"status": response.status_code, "streaming": response.streaming, "rows": rows, "bytes": size,
           "queries": ctx.count}
    if trace:
        out["python_peak_kib"] = round(tracemalloc.get_traced_memory()[1] / 1024)
        tracemalloc.stop()
    else:
        out |= {"first_byte_ms": round(first_byte * 1000, 1), "first_row_ms": round((first_row or total) * 1000, 1),
                "total_ms": round(total * 1000, 1), "rss_peak_growth_kib": peak_rss_kib() - rss_before}
    return out


def csv_export() -> dict:
    """Issue 12: GET /service/export.csv (the request list's filters) for the customer with the most requests in one
    local year, as the general manager filtering by customer and year; the same customer's busiest month; and all of
    one branch (the whole list of a branch-scoped manager). Each is read once for times and RSS and once under
    tracemalloc for Python's peak heap: flat memory means the peak does not grow with the rows."""
    from django.db.models import Count
    from django.db.models.functions import ExtractMonth, ExtractYear

    gm = User.objects.get(username=META["gm"])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(gm)
    per_year = (ServiceRequest.objects.annotate(year=ExtractYear("created_at")).values("customer_id", "year")
                .annotate(n=Count("pk")).order_by("-n", "customer_id", "year").first())
    customer, year = per_year["customer_id"], per_year["year"]
    per_month = (ServiceRequest.objects.filter(customer_id=customer).annotate(year=ExtractYear("created_at"),
                                                                              month=ExtractMonth("created_at"))
                 .filter(year=year).values("month").annotate(n=Count("pk")).order_by("-n", "month").first())
    month = per_month["month"]
    month_end = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).isoformat()
    branch = ServiceRequest.objects.filter(customer_id=customer).values_list("branch_id", flat=True).first()
    url = "/service/export.csv"
    cases = {
        "one month": f"{url}?customer={customer}&created_from={year}-{month:02d}-01&created_to={month_end}",
        "one year": f"{url}?customer={customer}&created_from={year}-01-01&created_to={year}-12-31",
        "one branch, everything": f"{url}?branch={branch}",
    }
    _read_export(client, cases["one month"], trace=False)  # warm-up: imports, translations, session
    out = {"exists": True, "routes": ["service:request_export_csv", "service:request_export_xlsx"], "customer": customer,
           "year": year, "month": month, "branch": branch, "requests in the year": per_year["n"], "cases": {}}
    for label, path in cases.items():
        figures = _read_export(client, path, trace=False)
        figures["python_peak_kib"] = _read_export(client, path, trace=True)["python_peak_kib"]
        out["cases"][label] = {"path": path, **figures}
    return out


def profiles(params: dict) -> dict:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return {"note": "pyinstrument not installed"}
    gm = User.objects.get(username=META["gm"])
    dispatcher = User.objects.get(username=META["dispatcher"])
    out = {}
    for label, user, path in (("desk queue API", gm, f"/api/requests/queue/?branch={params['branches'][0]}"),
                              ("desk queue HTML", gm, f"/service/desk/?branch={params['branches'][0]}"),
                              ("request page API", dispatcher, f"/api/requests/{params['request_ids'][1]}/")):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for _ in range(3):
            client.get(path)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(50):
            client.get(path)
        profiler.stop()
        out[label] = profiler.output_text(unicode=True, color=False, show_all=False)[:6000]
    return out


def main():
    params = json.loads(Path(os.environ["BENCH_PARAMS_JSON"]).read_text())
    result = {}
    result["endpoints"] = endpoint_queries(params)
    result["data floor"] = data_floor(result["endpoints"])
    result["sweep"] = sweep_figures()
    result["compliance"] = compliance_figures(params)
    result["csv export"] = csv_export()
    result["profiles"] = profiles(params)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
