"""Benchmark data: N service requests with the shape of issue 12, into SQLite (default) or PostgreSQL.

    .venv/bin/python bench/generate.py                           # 1,000,000 requests into bench/data/1000000/
    .venv/bin/python bench/generate.py --n 10000                 # quick
    .venv/bin/python bench/generate.py --n 10000 --db postgres   # PostgreSQL: bench/data/10000-pg/ (data dir) and the
                                                                 # cluster bench/data/pg-10000/ (bench/pg.sh)

Method (docs perf-floor.md): `aftersales migrate` into a fresh data dir (and, on PostgreSQL, a fresh database),
the small tables (branches, staff, customers, projects, integration key) through the ORM, the big ones (devices,
requests, targets, timeline events, work orders, request devices) from one row generator (big_tables) through a
writer per database: SQLite, raw sqlite3 `executemany`; PostgreSQL, psycopg `COPY ... FROM STDIN`. Either way
one transaction per table and slice, the table's secondary indexes (on PostgreSQL also its foreign keys and
unique constraints) dropped before and rebuilt after; then ANALYZE (PostgreSQL: VACUUM ANALYZE, and every
loaded table's id sequence set past its largest id). Rows are what the app writes: valid states and channels,
targets with started/due/warn/met/breached times, due times and next_due_at on open requests, timeline events,
work orders. Writes <data dir>/bench.json (logins, ids, the raw integration key) for bench/run.py.

--db postgres (or AFTERSALES_DB=postgres) uses the server named by AFTERSALES_DB_HOST / AFTERSALES_DB_PORT
(AFTERSALES_DB_NAME, _USER, _PASSWORD as the product reads them) when either is set, and drops and recreates
that database; otherwise the bench cluster bench/data/pg-<N>/, started through bench/pg.sh when it is not
running and stopped again at the end.
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV_BIN = ROOT / ".venv" / "bin"
PASSWORD = "bench-pass-2026"

N_CUSTOMERS, N_PROJECTS, N_DEVICES, N_STAFF = 500, 2000, 200_000, 80
BRANCHES = [("nx", "宁夏分公司(银川)"), ("sh", "上海总部"), ("gs", "甘肃分公司(兰州)"), ("xj", "新疆分公司(乌鲁木齐)")]
OPEN_SHARE = 0.02
YEARS = 8
PRIORITIES = (["general"] * 70) + (["serious"] * 25) + (["emergency"] * 5)
# reply and resolution minutes per priority (the seed's defaults, service/defaults.py)
MINUTES = {"general": (120, 480), "serious": (15, 240), "emergency": (10, 120)}
CHANNELS = ["phone"] * 50 + ["portal"] * 20 + ["email"] * 10 + ["alarm"] * 12 + ["label"] * 5 + ["onsite"] * 3
OPEN_STATES = ["new"] * 30 + ["replied"] * 30 + ["dispatched"] * 15 + ["en_route"] * 5 + ["on_site"] * 10 + ["resolved"] * 10
# Callers (issue 21 §8, search): 60,000 people with a name and a phone, typed four ways as the desk writes them
# down; about 17 requests per caller at 1M. Titles from a place and a fault.
N_CALLERS = 60_000
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "建华", "志强"]
FAULTS = ["摄像机无图像", "硬盘录像机报警", "门禁无法开门", "对讲无声音", "交换机端口故障", "服务器宕机", "UPS告警",
          "空调漏水", "显示屏黑屏", "广播无声", "网络中断", "打印机卡纸", "道闸不抬杆", "消防主机故障", "光纤中断"]


def caller(c: int) -> tuple[str, str]:
    """The c-th caller's name and phone, as written down: 139 0001 2345, 139-0001-2345, +86 13900012345 or plain."""
    digits = f"1{3 + c % 7}{c * 7919 % 10**9:09d}"
    shape = c % 4
    phone = (f"{digits[:3]} {digits[3:7]} {digits[7:]}" if shape == 0 else f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
             if shape == 1 else f"+86 {digits}" if shape == 2 else digits)
    return SURNAMES[c % len(SURNAMES)] + GIVEN[c // len(SURNAMES) % len(GIVEN)] + f"{c // 360:03d}", phone


def ts(moment: datetime) -> str:
    """How Django's SQLite backend stores an aware datetime (UTC, naive text); the PostgreSQL loader reads it in
    a session whose time zone is UTC."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def log(msg: str) -> None:
    print(msg, flush=True)


def data_dir_for(n: int, db: str) -> Path:
    """bench/data/<n>/ for SQLite, bench/data/<n>-pg/ for PostgreSQL (the cluster itself is in bench/data/pg-<n>/)."""
    return BENCH / "data" / (f"{n}-pg" if db == "postgres" else str(n))


@contextmanager
def bench_database(db: str, n: int):
    """The AFTERSALES_DB* environment of the database to use (see the module docstring)."""
    if db == "sqlite":
        yield {"AFTERSALES_DB": "sqlite"}
        return
    keys = ("AFTERSALES_DB_HOST", "AFTERSALES_DB_PORT", "AFTERSALES_DB_NAME", "AFTERSALES_DB_USER")
    if os.environ.get("AFTERSALES_DB_HOST") or os.environ.get("AFTERSALES_DB_PORT"):
        yield {"AFTERSALES_DB": "postgres", **{k: os.environ[k] for k in keys if os.environ.get(k)}}
        return
    pg_sh = ["sh", str(BENCH / "pg.sh")]
    was_running = subprocess.run([*pg_sh, "status", str(n)], capture_output=True).returncode == 0
    log(subprocess.run([*pg_sh, "up", str(n)], check=True, stdout=subprocess.PIPE, text=True).stdout.strip())
    port = (BENCH / "data" / f"pg-{n}" / "port").read_text().strip()
    try:
        yield {"AFTERSALES_DB": "postgres", "AFTERSALES_DB_HOST": "127.0.0.1", "AFTERSALES_DB_PORT": port,
               "AFTERSALES_DB_NAME": "aftersales", "AFTERSALES_DB_USER": "postgres"}
    finally:
        if not was_running:
            subprocess.run([*pg_sh, "down", str(n)], check=True)
            log(f"stopped the PostgreSQL cluster bench/data/pg-{n}/ (keep it running: sh bench/pg.sh up {n} first)")


def pg_conninfo(env: dict, dbname: str | None = None) -> dict:
    """psycopg.connect() arguments for the database the product reads from env (its defaults: settings._postgres)."""
    password = env.get("AFTERSALES_DB_PASSWORD")
    if env.get("AFTERSALES_DB_PASSWORD_FILE"):
        password = Path(env["AFTERSALES_DB_PASSWORD_FILE"]).read_text().strip()
    return {"host": env.get("AFTERSALES_DB_HOST", "127.0.0.1"), "port": env.get("AFTERSALES_DB_PORT", "5432"),
            "user": env.get("AFTERSALES_DB_USER", "postgres"), "password": password or None,
            "dbname": dbname or env.get("AFTERSALES_DB_NAME", "aftersales")}


def migrate(data_dir: Path, env: dict) -> None:
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    if env["AFTERSALES_DB"] == "postgres":
        import psycopg

        name = pg_conninfo(env)["dbname"]
        with psycopg.connect(**pg_conninfo(env, "postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([str(VENV_BIN / "aftersales"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)


def small_tables(rng: random.Random) -> dict:
    """Branches, 80 staff, 500 customers with a user each for the first, 2,000 projects, an integration key."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction

    from aftersales.accounts import roles
    from aftersales.accounts.models import ApiToken, Branch, Position, Specialty, User
    from aftersales.accounts.tokens import new_token
    from aftersales.core import clock
    from aftersales.assets.models import DeviceCategory, Manufacturer
    from aftersales.demo import data as demo
    from aftersales.customers.models import Customer, Project
    from aftersales.intake.alarms.keys import create_key
    from aftersales.intake.alarms.rules import ensure_default_rules
    from aftersales.service.models import SlaPolicy

    hashed = make_password(PASSWORD)  # once: PBKDF2 per user would cost a second per 3 users
    with transaction.atomic():
        branches = Branch.objects.bulk_create([Branch(code=code, name=name) for code, name in BRANCHES])
        groups = {g.name: g for g in Group.objects.all()}
        staff, memberships = [], []
        specialties = list(Specialty.values)
        layout = [("gm", roles.GENERAL_MANAGER, Position.GENERAL_MANAGER, None)]
        layout += [(f"advisor{i}", roles.TECHNICAL_ADVISOR, Position.TECHNICAL_ADVISOR, None) for i in range(3)]
        for b in range(len(branches)):
            layout.append((f"manager_{b}", roles.DEPARTMENT_MANAGER, Position.DEPARTMENT_MANAGER, b))
            layout += [(f"dispatcher_{b}_{i}", roles.DISPATCHER, Position.DISPATCHER, b) for i in range(3)]
            layout.append((f"logistics_{b}", roles.LOGISTICS, Position.LOGISTICS, b))
        b = 0
        while len(layout) < N_STAFF:
            layout.append((f"engineer_{b}_{len(layout)}", roles.ENGINEER, Position.ENGINEER, b))
            b = (b + 1) % len(branches)
        for username, role, position, branch in layout:
            staff.append(User(username=username, password=hashed, full_name=username, position=position,
                              specialty=rng.choice(specialties) if role == roles.ENGINEER else "",
                              branch=branches[branch] if branch is not None else None, email=f"{username}@bench.example"))
        staff = User.objects.bulk_create(staff)
        for user, (_u, role, _p, _b) in zip(staff, layout):
            memberships.append(User.groups.through(user_id=user.pk, group_id=groups[role].pk))
        customers = Customer.objects.bulk_create([
            Customer(name=f"客户{i:04d}", short_name=f"C{i:04d}", branch=branches[i % len(branches)]) for i in range(N_CUSTOMERS)])
        contact = User.objects.create(username="bench_customer", password=hashed, full_name="客户联系人",
                                      customer=customers[0], email="contact@bench.example")
        memberships.append(User.groups.through(user_id=contact.pk, group_id=groups[roles.CUSTOMER_USER].pk))
        User.groups.through.objects.bulk_create(memberships)
        projects = []
        for i in range(N_PROJECTS):
            customer = customers[i % N_CUSTOMERS]
            accepted = date(2017, 1, 1) + timedelta(days=rng.randint(0, 8 * 365))
            projects.append(Project(customer=customer, branch_id=customer.branch_id, name=f"项目{i:05d}",
                                    contract_number=f"BENCH-{i:05d}", accepted_on=accepted,
                                    service_starts_on=accepted, service_ends_on=accepted + timedelta(days=3 * 365),
                                    latitude=38.4 + rng.random(), longitude=106.2 + rng.random()))
        projects = Project.objects.bulk_create(projects)
        demo.ensure_categories()
        ensure_default_rules()
        for maker, _model in {m for models in demo.MODELS.values() for m in models}:
            Manufacturer.objects.get_or_create(name=maker)
        now = clock.now()  # one API token per user, as a real installation has them (their secrets are not kept)
        ApiToken.objects.bulk_create([new_token(user=user, name="bench", now=now)[0] for user in (contact, *staff)])
    key, raw_key = create_key(by=staff[0], customer=customers[0], name="bench-monitoring")
    policy = SlaPolicy.objects.get(is_default=True)
    by_branch = {}
    for user, (_u, role, _p, b) in zip(staff, layout):
        if b is not None:
            by_branch.setdefault(b, {}).setdefault(role, []).append(user.pk)
    return {
        "branches": [br.pk for br in branches],
        "customers": [(c.pk, c.branch_id) for c in customers],
        "projects": [(p.pk, p.customer_id, p.branch_id) for p in projects],
        "staff_by_branch": {branches[b].pk: roles_ for b, roles_ in by_branch.items()},
        "categories": {c.code: c.pk for c in DeviceCategory.objects.all()},
        "manufacturers": {m.name: m.pk for m in Manufacturer.objects.all()},
        "policy": policy.pk,
        "dispatcher": "dispatcher_0_0", "customer_user": "bench_customer", "gm": "gm", "password": PASSWORD,
        "dispatcher_branch": branches[0].pk, "customer": customers[0].pk,
        "integration_key": raw_key, "key_customer": customers[0].pk,
    }


class SqliteWriter:
    """Raw sqlite3 `executemany` (50,000 rows a call); secondary indexes dropped and rebuilt from their SQL."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-400000")
        self.db.execute("PRAGMA temp_store=MEMORY")

    def next_id(self, table: str) -> int:
        return self.db.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"').fetchone()[0]

    def drop_indexes(self, table: str) -> list[str]:
        """Drops the table's secondary indexes and triggers; returns the statements that rebuild them (the triggers
        keep the title words' FTS5 index current: `finish` rebuilds it once instead)."""
        rows = self.db.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name=? "
                               "AND sql IS NOT NULL", (table,)).fetchall()
        self.run([f'DROP {kind.upper()} "{name}"' for kind, name, _sql in rows])
        return [sql for _kind, _name, sql in rows]

    def run(self, statements: list[str]) -> None:
        self.db.execute("BEGIN")
        for sql in statements:
            self.db.execute(sql)
        self.db.execute("COMMIT")

    def insert(self, table: str, columns: list[str], rows) -> int:
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        count = 0
        batch = []
        self.db.execute("BEGIN")
        for row in rows:
            batch.append(row)
            if len(batch) >= 50_000:
                self.db.executemany(sql, batch)
                count += len(batch)
                batch.clear()
        if batch:
            self.db.executemany(sql, batch)
            count += len(batch)
        self.db.execute("COMMIT")
        return count

    def finish(self) -> dict:
        timings = {}
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'service_request_terms'").fetchone():
            started = time.perf_counter()  # service/term_index.py: the title words' index, from the rows
            self.db.execute("INSERT INTO service_request_terms(service_request_terms) VALUES ('rebuild')")
            timings["title words (FTS5 rebuild)"] = (0, time.perf_counter() - started)
        started = time.perf_counter()
        self.db.execute("ANALYZE")
        timings["ANALYZE"] = (0, time.perf_counter() - started)
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()
        return timings

    def describe(self) -> dict:
        return {"db": "sqlite", "db_version": f"SQLite {sqlite3.sqlite_version}", "db_bytes": self.path.stat().st_size}


class PostgresWriter:
    """psycopg `COPY ... FROM STDIN` (write_row), in a session whose time zone is UTC (ts() writes naive UTC).
    Before loading a table its foreign keys, unique constraints and secondary indexes are dropped (the primary
    key and CHECK constraints stay); after, they are recreated, which validates the foreign keys in one pass."""

    def __init__(self, conninfo: dict):
        import psycopg

        self.db = psycopg.connect(**conninfo)
        self.db.execute("SET TIME ZONE 'UTC'")
        self.db.execute("SET maintenance_work_mem = '512MB'")  # index builds
        self.db.commit()
        self.loaded = set()

    def next_id(self, table: str) -> int:
        value = self.db.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"').fetchone()[0]
        self.db.commit()
        return value

    def drop_indexes(self, table: str) -> list[str]:
        """Drops them; returns the statements that recreate them: indexes, then unique constraints, then foreign keys."""
        indexes = self.db.execute("""
            SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid)
            ORDER BY i.relname""", (table,)).fetchall()
        constraints = self.db.execute("""
            SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname""", (table,)).fetchall()
        self.run([f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"' for name, _sql in reversed(constraints)]
                 + [f'DROP INDEX "{name}"' for name, _sql in indexes])
        return [sql for _name, sql in indexes] + [f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                                                  for name, definition in constraints]

    def run(self, statements: list[str]) -> None:
        for sql in statements:
            self.db.execute(sql)
        self.db.commit()

    def insert(self, table: str, columns: list[str], rows) -> int:
        count = 0
        with self.db.cursor() as cursor:
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        self.db.commit()
        self.loaded.add(table)
        return count

    def finish(self) -> dict:
        """Every loaded table's id sequence set past its largest id (the product inserts after), VACUUM ANALYZE
        (statistics, and the visibility map, so autovacuum does not start on the fresh rows during a run)."""
        started = time.perf_counter()
        for table in sorted(self.loaded):
            self.db.execute(f"""SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false)
                                FROM "{table}" """, (table,))
        self.db.commit()
        timings = {"sequences (setval)": (len(self.loaded), time.perf_counter() - started)}
        started = time.perf_counter()
        self.db.autocommit = True
        self.db.execute("VACUUM (ANALYZE)")
        timings["VACUUM ANALYZE"] = (0, time.perf_counter() - started)
        return timings

    def describe(self) -> dict:
        version = self.db.execute("SHOW server_version").fetchone()[0].split()[0]
        size = self.db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        self.db.close()
        return {"db": "postgres", "db_version": f"PostgreSQL {version}", "db_bytes": size}


def load_table(writer, table: str, columns: list[str], rows, *, keep_indexes=False) -> tuple[int, float]:
    started = time.perf_counter()
    indexes = [] if keep_indexes else writer.drop_indexes(table)
    count = writer.insert(table, columns, rows)
    writer.run(indexes)
    return count, time.perf_counter() - started


def big_tables(writer, n: int, meta: dict, rng: random.Random, now: datetime) -> dict:
    """The rows of the big tables, the same for every database; `writer` (SqliteWriter, PostgresWriter) stores them.
    Devices and requests carry explicit ids (from the table's next id), their children refer to them."""
    timings = {}
    from aftersales.demo.data import MODELS, PLACES, SHARE
    from aftersales.service.terms import search_terms

    # ------------------------------------------------------------------ devices: 100 per project
    projects = meta["projects"]
    cats, makers = meta["categories"], meta["manufacturers"]
    codes, weights = list(SHARE), list(SHARE.values())
    per_project = N_DEVICES // len(projects)
    stamp = ts(now - timedelta(days=3000))
    device_serials = {}  # customer -> [serial] (for alarm events)
    first_device = writer.next_id("assets_device")
    device_base = {p[0]: first_device + k * per_project for k, p in enumerate(projects)}

    def devices():
        i = 0
        for project_id, customer_id, _branch in projects:
            for _ in range(per_project):
                i += 1
                code = rng.choices(codes, weights)[0]
                maker, model = rng.choice(MODELS[code])
                serial = f"BS{i:09d}"
                if customer_id == meta["key_customer"]:
                    device_serials.setdefault(customer_id, []).append(serial)
                yield (first_device + i - 1, stamp, stamp, f"{code}-{i:06d}", model, serial, rng.choice(PLACES), None, "", "", f"bl{i:012d}",
                       None, None, None, None, None, None, project_id, cats[code], makers[maker])

    count, took = load_table(writer, "assets_device", [
        "id", "created_at", "updated_at", "name", "model", "serial_number", "location", "installed_on", "supplier", "notes",
        "label_code", "warranty_start_override", "manufacturer_warranty_end_override", "warranty_end_override",
        "warranty_start", "manufacturer_warranty_end", "warranty_end", "project_id", "category_id", "manufacturer_id"], devices())
    timings["assets_device"] = (count, took)

    # ------------------------------------------------------------------ requests and their targets, events, work orders
    span = timedelta(days=365 * YEARS)
    start = now - span
    step = span / n
    open_from = int(n * (1 - OPEN_SHARE * 1.25))  # open requests are the recent ones, 80 % of the last 2.5 %
    engineers = {b: roles.get("engineer", []) for b, roles in meta["staff_by_branch"].items()}
    dispatchers = {b: roles.get("dispatcher", []) for b, roles in meta["staff_by_branch"].items()}
    policy = meta["policy"]
    targets, events, work_orders, links = [], [], [], []
    first_id = writer.next_id("service_servicerequest")
    project_weights = [rng.paretovariate(1.5) for _ in projects]  # some customers report far more than others
    chosen_projects = rng.choices(projects, project_weights, k=n)

    def lateness(minutes: int) -> int:
        """Minutes to meet a target: mostly well inside it, about 7 % late."""
        if rng.random() < 0.07:
            return int(minutes * (1 + rng.random() * 2)) + 1
        return max(1, int(minutes * rng.betavariate(2, 3)))

    def requests():
        for k in range(n):
            rid = first_id + k
            created = start + step * k + timedelta(seconds=rng.randint(0, 59))
            project_id, customer_id, branch_id = chosen_projects[k]
            priority = rng.choice(PRIORITIES)
            channel = rng.choice(CHANNELS)
            reply_min, resolve_min = MINUTES[priority]
            is_open = k >= open_from and rng.random() < 0.8
            state = rng.choice(OPEN_STATES) if is_open else ("cancelled" if rng.random() < 0.05 else "closed")
            engineer = rng.choice(engineers[branch_id])
            desk = rng.choice(dispatchers[branch_id])
            reply_due = created + timedelta(minutes=reply_min)
            resolve_due = created + timedelta(minutes=resolve_min)
            replied = resolved = closed = None
            if state != "new":
                replied = created + timedelta(minutes=lateness(reply_min))
            if state in ("resolved", "closed"):
                resolved = created + timedelta(minutes=lateness(resolve_min))
                if replied > resolved:
                    replied = resolved
            if state == "closed":
                closed = resolved + timedelta(hours=rng.randint(1, 72))
            assignee = engineer if state not in ("new", "replied", "cancelled") else None
            # targets: reply and resolution; due = start + minutes on the 7x24 calendar, warning at 80 %
            reply_breach = replied if replied and replied > reply_due else None
            resolve_breach = resolved if resolved and resolved > resolve_due else None
            targets.append(("reply", reply_min, ts(created), ts(replied) if replied else None, ts(reply_due),
                            ts(created + timedelta(minutes=reply_min * 0.8)), 0,
                            ts(reply_due) if reply_breach or (state == "new" and reply_due <= now) else None, rid))
            targets.append(("resolution", resolve_min, ts(created), ts(resolved) if resolved else None, ts(resolve_due),
                            ts(created + timedelta(minutes=resolve_min * 0.8)), 0,
                            ts(resolve_due) if resolve_breach or (is_open and not resolved and resolve_due <= now) else None, rid))
            open_dues = []
            if is_open and replied is None:
                open_dues.append(reply_due)
            if is_open and resolved is None:
                open_dues.append(resolve_due)
            next_due = min(open_dues) if open_dues else None
            # open requests already past due have their escalation ladder exhausted (no check left); future ones
            # are checked at their next due time
            future = [d for d in open_dues if d > now]
            next_check = min(future) if future else None
            # timeline: created, replied, dispatched, resolved, closed (about 5)
            events.append((rid, "created", ts(created), None, "", json.dumps({"priority": priority, "channel": channel})))
            if replied:
                events.append((rid, "replied", ts(replied), desk, "电话指导/上门处理", '{"mode": "onsite"}'))
            if assignee or state == "closed":
                events.append((rid, "dispatched", ts(replied or created), desk, "", json.dumps({"engineer": engineer})))
                events.append((rid, "arrived", ts((replied or created) + timedelta(minutes=40)), engineer, "", '{"proof": "customer"}'))
            if resolved:
                events.append((rid, "resolved", ts(resolved), engineer, "", "{}"))
            if closed:
                events.append((rid, "closed", ts(closed), None, "", "{}"))
            if state == "cancelled":
                events.append((rid, "cancelled", ts(created + timedelta(hours=1)), desk, "客户取消", "{}"))
            if state == "closed" and k % 3 == 0:
                work_orders.append((ts(resolved), ts(resolved), "更换故障部件并测试", "", rng.randint(20, 240), "solved",
                                    "confirmed", ts(closed), "现场签字人", None, "portal", rng.randint(3, 5), "", "", 1,
                                    None, engineer, rid))
            if k % 3 == 1:
                links.append((rid, device_base[project_id] + rng.randrange(per_project)))
            reporter_name, reporter_phone = caller(rng.randrange(N_CALLERS))
            title = f"{rng.choice(PLACES)}{rng.choice(FAULTS)}"
            yield (rid, ts(created), ts(closed or resolved or replied or created), f"SR{rid:07d}", reporter_name, reporter_phone,
                   channel, priority, None, title, search_terms(title, reporter_name), "设备故障，请尽快处理。", "", "", state,
                   "onsite" if replied else "", "上门处理" if replied else "", None, "", 0, 0,
                   ts(reply_due) if is_open and replied is None else None,
                   ts(resolve_due) if is_open and resolved is None else None,
                   ts(next_due) if next_due else None, ts(next_check) if next_check else None, 0,
                   ts(replied) if replied else None, ts(resolved) if resolved else None, ts(closed) if closed else None,
                   f"bt{rid:014d}", 1, None, assignee, branch_id, customer_id, project_id, None, policy, 1)

    columns = ["id", "created_at", "updated_at", "number", "reporter_name", "reporter_phone", "channel", "priority", "customer_rank",
               "title", "search_terms", "description", "business_impact", "specialty", "state", "service_mode", "plan", "scheduled_for",
               "contingency_plan", "escalation_level", "paused", "reply_due_at", "resolve_due_at", "next_due_at",
               "next_check_at", "due_provisional", "replied_at", "resolved_at", "closed_at", "public_token", "version",
               "advisor_id", "assignee_id", "branch_id", "customer_id", "project_id", "reporter_id", "policy_id",
               "reporter_verified"]

    # Requests first (children are collected as a side effect, flushed after in their own transactions).
    # To bound memory at 1M, run in slices of 100k requests.
    totals = {"service_servicerequest": [0, 0.0], "service_target": [0, 0.0], "service_timelineevent": [0, 0.0],
              "service_workorder": [0, 0.0], "service_servicerequest_devices": [0, 0.0]}
    gen = requests()
    slice_size = 100_000
    dropped = {}
    for table in totals:
        dropped[table] = writer.drop_indexes(table)
    done = 0
    while done < n:
        take = min(slice_size, n - done)
        part = (next(gen) for _ in range(take))
        c, t = load_table(writer, "service_servicerequest", columns, part, keep_indexes=True)
        totals["service_servicerequest"][0] += c
        totals["service_servicerequest"][1] += t
        for table, cols, rows in (
            ("service_target", ["kind", "minutes", "started_at", "met_at", "due_at", "warn_at", "provisional", "breached_at",
                                "request_id"], targets),
            ("service_timelineevent", ["request_id", "kind", "at", "actor_id", "text", "data"], events),
            ("service_workorder", ["created_at", "updated_at", "actions", "parts_used", "minutes_spent", "result", "state",
                                   "confirmed_at", "signer_name", "signature", "confirmed_via", "satisfaction",
                                   "customer_comment", "rejection_reason", "version", "confirmed_by_id", "engineer_id",
                                   "request_id"], work_orders),
            ("service_servicerequest_devices", ["servicerequest_id", "device_id"], links),
        ):
            c, t = load_table(writer, table, cols, iter(rows), keep_indexes=True)
            totals[table][0] += c
            totals[table][1] += t
            rows.clear()
        done += take
        log(f"  {done:,} requests")
    for table, sqls in dropped.items():
        started = time.perf_counter()
        writer.run(sqls)
        timings[f"{table} indexes"] = (len(sqls), time.perf_counter() - started)
    timings.update({k: tuple(v) for k, v in totals.items()})
    timings.update(writer.finish())
    meta["alarm_serials"] = device_serials.get(meta["key_customer"], [])
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="service requests (default 1,000,000)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default=os.environ.get("AFTERSALES_DB", "sqlite"),
                        help="database (default: AFTERSALES_DB, else sqlite)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    with bench_database(args.db, args.n) as db_env:
        return generate(args, data_dir_for(args.n, args.db), db_env)


def generate(args, data_dir: Path, db_env: dict) -> int:
    env = {**os.environ, **db_env, "AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_LOG_LEVEL": "WARNING"}
    os.environ.update({k: env[k] for k in (*db_env, "AFTERSALES_DATA_DIR", "AFTERSALES_LOG_LEVEL")})
    total = time.perf_counter()
    log(f"generating {args.n:,} requests into {data_dir} ({args.db})")
    t = time.perf_counter()
    migrate(data_dir, env)
    log(f"migrate: {time.perf_counter() - t:.1f} s")
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    import django

    django.setup()
    from django.db import connection

    rng = random.Random(args.seed)
    t = time.perf_counter()
    meta = small_tables(rng)
    log(f"small tables (ORM): {time.perf_counter() - t:.1f} s")
    connection.close()
    now = datetime.now(UTC).replace(tzinfo=None)
    writer = PostgresWriter(pg_conninfo(env)) if args.db == "postgres" else SqliteWriter(data_dir / "aftersales.sqlite3")
    timings = big_tables(writer, args.n, meta, rng, now)
    for table, (count, took) in timings.items():
        log(f"  {table:40s} {count:>10,} rows  {took:7.1f} s")
    elapsed = time.perf_counter() - total
    meta.update(writer.describe())
    meta.update({"n": args.n, "generated_at": now.isoformat() + "Z", "generation_seconds": round(elapsed, 1),
                 "timings": {k: [c, round(s, 2)] for k, (c, s) in timings.items()}})
    meta.pop("projects_list", None)
    (data_dir / "bench.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    log(f"done in {elapsed:.1f} s; {meta['db_version']} database {meta['db_bytes'] / 2**20:,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
