"""The benchmark run (issue 12): HTTP workload with wrk against `aftersales serve`, in-process figures, references.

    .venv/bin/python bench/generate.py --n 10000     # once per size
    .venv/bin/python bench/run.py --n 10000          # writes bench/RESULTS.md (and bench/data/<n>/results.json)

    .venv/bin/python bench/generate.py --n 10000 --db postgres   # the same on PostgreSQL (bench/data/10000-pg/,
    .venv/bin/python bench/run.py --n 10000 --db postgres        # cluster bench/data/pg-10000/, see generate.py)

Options: --db sqlite|postgres (default: AFTERSALES_DB, else sqlite), --duration 10 (seconds per wrk run),
--warmup 3, --only queue_api,create (subset), --no-write.
"""

import argparse
import http.cookiejar
import json
import os
import platform
import random
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from generate import bench_database, data_dir_for, pg_conninfo

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = ROOT / ".venv" / "bin"
LUA = BENCH / "lua"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# name, lua script, what, target (c8), kind of target
WORKLOADS = [
    ("queue_api", "desk queue API (?branch=random)", {"rps": 400, "p95_ms": 40}),
    ("queue_html", "desk queue HTML (/service/desk/?branch=random)", {"rps": 250}),
    ("request_api", "request page with timeline, API", {"rps": 400}),
    ("request_html", "request page with timeline, HTML", {}),
    ("list_customer_month", "request list by customer and month, API", {}),
    ("create", "create request, API", {"rps": 250}),
    ("reply", "state transition (reply) on fresh requests, API", {}),
    ("portal_list", "customer portal request list, HTML", {}),
    ("alarms", "alarm events (raise, new + already open), API", {"rps": 300}),
    ("alarms_quarter_new", "alarm events, a quarter of the raises opening a request, API", {"rps": 300}),
    ("compliance", "monthly SLA compliance summary, API (random month, all branches)", {}),
    ("search", "request list searched by a caller's phone, a serial or a request number, HTML (a dispatcher)", {}),
    ("search_title", "request list searched by a title word (the newest 20,000 of the branch), HTML (a dispatcher)", {}),
]


def log(msg):
    print(msg, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`aftersales serve` (gunicorn, 2 sync workers, 127.0.0.1) with the given settings module."""

    def __init__(self, data_dir: Path, settings: str, log_path: Path, pythonpath: str = str(BENCH)):
        self.port = free_port()
        self.env = {**os.environ, "AFTERSALES_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": settings,
                    "PYTHONPATH": pythonpath, "AFTERSALES_LOG_LEVEL": "WARNING"}
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([str(VENV_BIN / "aftersales"), "serve", "--port", str(self.port)], env=self.env,
                                     cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self, path="/login/"):
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + path, timeout=2).read()
                return
            except Exception:  # noqa: BLE001
                time.sleep(0.1)
        raise RuntimeError(f"server did not start; see {self.log.name}")

    def workers(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def peak_rss_mb(self) -> list[float]:
        out = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            if found:
                out.append(round(int(found.group(1)) / 1024, 1))
        return out

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Db:
    """The run's own connection, for the workload parameters and the checks: sqlite3 on the file, or psycopg
    (autocommit) on the database the server uses. SQL is written with `?` placeholders for both."""

    def __init__(self, data_dir: Path, env: dict):
        self.kind = env["AFTERSALES_DB"]
        if self.kind == "postgres":
            import psycopg

            self.conn = psycopg.connect(**pg_conninfo(env), autocommit=True)
        else:
            self.conn = sqlite3.connect(data_dir / "aftersales.sqlite3", timeout=30)

    def execute(self, sql: str, params=()):
        if not params:
            return self.conn.execute(sql)
        return self.conn.execute(sql.replace("?", "%s") if self.kind == "postgres" else sql, params)

    def describe(self) -> dict:
        """The database, its version and (PostgreSQL) the settings that matter for the figures."""
        if self.kind != "postgres":
            return {"db": "sqlite", "db_version": f"SQLite {sqlite3.sqlite_version}"}
        settings = {name: self.execute(f"SHOW {name}").fetchone()[0] for name in (
            "server_version", "shared_buffers", "work_mem", "effective_cache_size", "jit", "synchronous_commit", "fsync")}
        return {"db": "postgres", "db_version": f"PostgreSQL {settings.pop('server_version').split()[0]}", "db_settings": settings}

    def close(self):
        self.conn.close()


def token(base: str, username: str, password: str) -> str:
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    with urllib.request.urlopen(base + "/api/auth/token/", data=data, timeout=10) as r:
        return json.loads(r.read())["token"]


def session_cookie(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login/", timeout=10).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf}).encode()
    req = urllib.request.Request(base + "/login/", data=data, headers={"Referer": base + "/login/", "Origin": base})
    opener.open(req, timeout=10).read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"login of {username} failed")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def lua_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def write_params(path: Path, params: dict) -> None:
    path.write_text("return " + lua_value(params) + "\n")


def wrk(base: str, script: str, params_path: Path, *, connections: int, duration: int) -> dict:
    threads = 1 if connections == 1 else 2
    env = {**os.environ, "BENCH_PARAMS": str(params_path), "BENCH_LUA_DIR": str(LUA), "BENCH_THREADS": str(threads)}
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA / f"{script}.lua"), base]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    found = re.search(r"^BENCH_JSON (.*)$", out.stdout, re.M)
    if not found:
        raise RuntimeError(f"wrk {script}: no result\n{out.stdout}\n{out.stderr}")
    return json.loads(found.group(1))


def month_bounds(year: int, month: int) -> tuple[str, str]:
    start = datetime(year, month, 1, tzinfo=SHANGHAI)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=SHANGHAI)
    return start.isoformat(), end.isoformat()


def build_params(db: Db, meta: dict, run_id: str) -> dict:
    rng = random.Random(1)
    branch = meta["dispatcher_branch"]
    ids = [r[0] for r in db.execute("SELECT id FROM service_servicerequest WHERE branch_id=? ORDER BY random() LIMIT 5000", (branch,))]
    customers = [c for c, b in meta["customers"] if b == branch]
    projects = [p for p, _c, b in meta["projects"] if b == branch]
    first = db.execute("SELECT MIN(created_at) FROM service_servicerequest").fetchone()[0]
    first = first.astimezone(UTC) if isinstance(first, datetime) else datetime.fromisoformat(first)  # psycopg / sqlite3
    keys, months = [], []
    y, m = first.year, first.month
    now = datetime.now(UTC)
    while (y, m) <= (now.year, now.month):
        keys.append(f"{y:04d}-{m:02d}")
        months.append([urllib.parse.quote(v) for v in month_bounds(y, m)])
        y, m = (y + (m == 12), m % 12 + 1)
    keys, months = keys[1:-1], months[1:-1]  # whole months only
    return {"branches": meta["branches"], "request_ids": ids, "branch_customers": customers, "branch_projects": projects,
            "months": months, "month_keys": keys, "priorities": ["general"] * 14 + ["serious"] * 5 + ["emergency"],
            "alarm_serials": meta["alarm_serials"], "integration_key": meta["integration_key"],
            "create_title": f"bench-create {run_id}", "fresh_ids": [0], **search_texts(db, branch, rng)}


def search_texts(db, branch: int, rng: random.Random) -> dict:
    """Issue 21 §8: what a dispatcher of `branch` types into the search, URL-quoted: callers' phones written with
    spaces, serial numbers of affected devices and request numbers, 100 of each (search_texts); title words
    (search_title_texts)."""
    rows = db.execute("SELECT id, number, reporter_phone FROM service_servicerequest WHERE branch_id=? ORDER BY random() LIMIT 100",
                      (branch,)).fetchall()
    serials = [r[0] for r in db.execute(
        "SELECT d.serial_number FROM service_servicerequest_devices l JOIN assets_device d ON d.id = l.device_id "
        "JOIN service_servicerequest r ON r.id = l.servicerequest_id WHERE r.branch_id=? ORDER BY random() LIMIT 100", (branch,))]
    digits = ["".join(c for c in phone if c.isdigit())[-11:] for _id, _n, phone in rows]
    texts = [f"{d[:3]} {d[3:7]} {d[7:]}" for d in digits] + serials + [n for _id, n, _p in rows]
    words = [rng.choice(["无图像", "报警", "故障", "黑屏", "漏水", "不抬杆"]) for _ in range(100)]
    return {"search_texts": [urllib.parse.quote(t) for t in texts], "search_title_texts": [urllib.parse.quote(t) for t in words]}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    versions = {}
    out = subprocess.run([str(VENV_BIN / "python"), "-c",
                          "import django, rest_framework, gunicorn, sqlite3, sys; print(sys.version.split()[0], django.__version__, "
                          "rest_framework.__version__, gunicorn.__version__, sqlite3.sqlite_version)"],
                         capture_output=True, text=True).stdout.split()
    if len(out) == 5:
        versions = dict(zip(["Python", "Django", "DRF", "gunicorn", "SQLite"], out))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    versions["wrk"] = (wrk_version.stdout + wrk_version.stderr).split("\n")[0].split(" [")[0].replace("wrk ", "")
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(int(mem) / 2**20, 1), "kernel": platform.release(),
            "versions": versions}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--only", default="")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default=os.environ.get("AFTERSALES_DB", "sqlite"),
                        help="database (default: AFTERSALES_DB, else sqlite); the data of `generate.py --db` of the same N")
    args = parser.parse_args()
    data_dir = data_dir_for(args.n, args.db)
    if not (data_dir / "bench.json").exists():
        sys.exit(f"{data_dir / 'bench.json'} missing: run bench/generate.py --n {args.n} --db {args.db} first")
    with bench_database(args.db, args.n) as db_env:
        os.environ.update(db_env)  # for the servers and inproc.py
        return run(args, data_dir)


def run(args, data_dir: Path) -> int:
    meta = json.loads((data_dir / "bench.json").read_text())
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    db = Db(data_dir, os.environ)
    params = build_params(db, meta, run_id)
    only = set(filter(None, args.only.split(",")))
    results = {"n": args.n, "run_id": run_id, "machine": machine(), "command": " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
               "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "generation": meta.get("timings"),
               "generation_seconds": meta.get("generation_seconds"), "db_bytes": meta.get("db_bytes"), **db.describe(),
               "http": {}, "checks": {}}
    if results["db"] == "postgres":
        import psycopg

        results["machine"]["versions"].update({"PostgreSQL": results["db_version"].split()[1], "psycopg": psycopg.__version__})

    # ------------------------------------------------------------------ the framework floor
    floor = Server(data_dir, "floor_settings", data_dir / "floor-gunicorn.log")
    try:
        floor.wait("/ping/")
        params_path = data_dir / "wrk_params.lua"
        write_params(params_path, params)
        wrk(floor.base, "ping", params_path, connections=8, duration=args.warmup)
        results["http"]["ping"] = {f"c{c}": wrk(floor.base, "ping", params_path, connections=c, duration=args.duration) for c in (1, 8)}
        results["http"]["ping"]["rss_mb"] = floor.peak_rss_mb()
        log(f"floor: {results['http']['ping']['c8']['rps']:.0f} req/s at c8")
    finally:
        floor.stop()

    # ------------------------------------------------------------------ the product
    server = Server(data_dir, "bench_settings", data_dir / "gunicorn.log")
    try:
        server.wait()
        params["gm_token"] = token(server.base, meta["gm"], meta["password"])
        params["dispatcher_token"] = token(server.base, meta["dispatcher"], meta["password"])
        params["gm_cookie"] = session_cookie(server.base, meta["gm"], meta["password"])
        params["dispatcher_cookie"] = session_cookie(server.base, meta["dispatcher"], meta["password"])
        params["customer_cookie"] = session_cookie(server.base, meta["customer_user"], meta["password"])
        write_params(params_path, params)
        created_201 = 0
        for name, label, target in WORKLOADS:
            if only and name not in only:
                continue
            if name == "reply":
                fresh = [r[0] for r in db.execute(
                    "SELECT id FROM service_servicerequest WHERE title=? AND state='new' ORDER BY id", (params["create_title"],))]
                if not fresh:
                    log("reply: no fresh requests (run create first); skipped")
                    continue
                params["fresh_ids"] = fresh
                write_params(params_path, params)
            if name.startswith("alarms"):
                alarm_statuses = {}
                alarm_before = {k: db.execute(q).fetchone()[0] for k, q in (
                    ("opened", "SELECT COUNT(*) FROM intake_alarmevent WHERE outcome='opened'"),
                    ("appended", "SELECT COUNT(*) FROM intake_alarmevent WHERE outcome='appended'"),
                    ("active", "SELECT COUNT(*) FROM intake_activealarm"))}
            figures = {}
            if name not in ("reply",) and args.warmup:
                figures["warmup"] = wrk(server.base, name, params_path, connections=8, duration=args.warmup)
            for c in (1, 8):
                f = figures[f"c{c}"] = wrk(server.base, name, params_path, connections=c, duration=args.duration)
                log(f"{name:20s} c{c}: {f['rps']:7.1f} req/s  p50 {f['p50_ms']:.1f}  p95 "
                    f"{f['p95_ms']:.1f}  p99 {f['p99_ms']:.1f} ms  {f['statuses']}")
            figures["rss_mb"] = server.peak_rss_mb()
            figures["label"], figures["target"] = label, target
            results["http"][name] = figures
            runs = [figures[k] for k in ("warmup", "c1", "c8") if k in figures]
            if name == "create":
                created_201 = sum(r["statuses"].get("201", 0) for r in runs)
                rows = db.execute("SELECT COUNT(*) FROM service_servicerequest WHERE title=?", (params["create_title"],)).fetchone()[0]
                timeouts = sum(r["errors"]["timeout"] for r in runs)
                results["checks"]["create"] = {"acknowledged_201": created_201, "rows": rows, "wrk_timeouts": timeouts,
                                               "in_flight_at_stop": rows - created_201,
                                               # wrk stops counting at the deadline; requests in flight then (at most
                                               # one per connection per run) are served but not counted
                                               "ok": 0 <= rows - created_201 <= sum(8 if k != "c1" else 1 for k in ("warmup", "c1", "c8") if k in figures)}
                log(f"create check: {results['checks']['create']}")
            if name == "reply":
                ok200 = sum(r["statuses"].get("200", 0) for r in runs)
                replied = db.execute("SELECT COUNT(*) FROM service_servicerequest WHERE title=? AND state='replied'",
                                     (params["create_title"],)).fetchone()[0]
                results["checks"]["reply"] = {"answered_200": ok200, "replied_rows": replied, "fresh_ids": len(params["fresh_ids"]),
                                              "ok": 0 <= replied - ok200 <= 9}
                log(f"reply check: {results['checks']['reply']}")
            if name.startswith("alarms"):
                for r in runs:
                    for k, v in r["statuses"].items():
                        alarm_statuses[k] = alarm_statuses.get(k, 0) + v
                dupes = db.execute("""
                    SELECT e.device_id, e.alarm_type, COUNT(DISTINCT e.request_id) FROM intake_alarmevent e
                    JOIN service_servicerequest r ON r.id = e.request_id
                    WHERE r.state IN ('new','replied','dispatched','en_route','on_site','resolved')
                    GROUP BY e.device_id, e.alarm_type HAVING COUNT(DISTINCT e.request_id) > 1""").fetchall()
                opened = db.execute("SELECT COUNT(*) FROM intake_alarmevent WHERE outcome='opened'").fetchone()[0] - alarm_before["opened"]
                appended = db.execute("SELECT COUNT(*) FROM intake_alarmevent WHERE outcome='appended'").fetchone()[0] - alarm_before["appended"]
                active = db.execute("SELECT COUNT(*) FROM intake_activealarm").fetchone()[0] - alarm_before["active"]
                results["checks"][name] = {"statuses": alarm_statuses, "opened": opened, "appended": appended,
                                           "active_alarm_rows": active, "pairs_with_more_than_one_open_request": len(dupes),
                                           "ok": not dupes and opened == active and 0 <= opened - alarm_statuses.get("201", 0) <= 17}
                log(f"{name} check: {results['checks'][name]}")
        results["rss_mb"] = server.peak_rss_mb()
    finally:
        server.stop()
        db.close()

    # ------------------------------------------------------------------ in-process figures
    params_json = data_dir / "params.json"
    params_json.write_text(json.dumps(params))
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "bench_settings",
           "PYTHONPATH": str(BENCH), "BENCH_PARAMS_JSON": str(params_json), "AFTERSALES_LOG_LEVEL": "WARNING"}
    out = subprocess.run([str(VENV_BIN / "python"), str(BENCH / "inproc.py")], env=env, capture_output=True, text=True, cwd=ROOT)
    try:
        results["inproc"] = json.loads(out.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        results["inproc"] = {"error": out.stderr[-4000:]}
        log(out.stderr[-4000:])
    (data_dir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    if not args.no_write:
        try:
            from report import write_results

            write_results(results, BENCH / "RESULTS.md")
        except Exception as error:  # noqa: BLE001 - the JSON is kept; `python bench/report.py <json>` retries
            log(f"RESULTS.md not written: {error!r}")
    log(f"results: {data_dir / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    sys.exit(main())
