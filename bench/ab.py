"""A/B: this checkout's code against an older commit's, served side by side on the same data.

    git worktree add ../base <commit>            # the code to compare against (its own bench/ too)
    .venv/bin/python bench/ab.py --base ../base --n 1000000 [--only queue_api,create] [--slices 4 --seconds 4]

Both servers run at once (`aftersales serve`, gunicorn with 2 sync workers, 127.0.0.1), each with its own code
(PYTHONPATH) on the same data dir; wrk loads one of them at a time, alternating in slices (A B, B A, …) so that a
machine that speeds up or slows down during the run weighs on both alike. Then the sweep of 1,000 due requests,
in-process, alternating the same way. The data dir is migrated with this checkout's code first: the older code
must run on the newer schema (new columns nullable). Results go to bench/data/<n>/ab-<time>.json and stdout.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from run import BENCH, ROOT, VENV_BIN, Db, Server, build_params, log, machine, session_cookie, token, wrk, write_params

HOT = ["queue_api", "queue_html", "request_api", "create", "alarms", "alarms_quarter_new"]

SWEEP_SNIPPET = """
import os, statistics, sys, time
from datetime import timedelta
import django
django.setup()
from django.db import transaction
from aftersales.core import clock
from aftersales.service.models import OPEN_STATES, ServiceRequest
try:
    from aftersales.service.sweep import sweep
except ImportError:  # the code before the split
    from aftersales.service.services import sweep
now = clock.now()
with transaction.atomic():
    due = list(ServiceRequest.objects.filter(state__in=OPEN_STATES, next_due_at__lte=now)
               .order_by("-pk").values_list("pk", flat=True)[:1000])
    ServiceRequest.objects.filter(pk__in=due).update(next_check_at=now - timedelta(minutes=1))
    started = time.perf_counter()
    handled = sweep(now=now)
    took = (time.perf_counter() - started) * 1000
    transaction.set_rollback(True)
print("SWEEP", handled, round(took, 1))
"""


class Served(Server):
    """`aftersales serve` of one code tree (its src/ and bench/ on PYTHONPATH) on the shared data dir."""

    def __init__(self, name: str, pythonpath: str, data_dir: Path):
        super().__init__(data_dir, "bench_settings", data_dir / f"ab-{name}-gunicorn.log", pythonpath)
        self.name = name


def params_for(server: Served, meta: dict, params: dict, data_dir: Path) -> Path:
    own = dict(params)
    own["gm_token"] = token(server.base, meta["gm"], meta["password"])
    own["dispatcher_token"] = token(server.base, meta["dispatcher"], meta["password"])
    own["gm_cookie"] = session_cookie(server.base, meta["gm"], meta["password"])
    own["dispatcher_cookie"] = session_cookie(server.base, meta["dispatcher"], meta["password"])
    own["customer_cookie"] = session_cookie(server.base, meta["customer_user"], meta["password"])
    path = data_dir / f"wrk_params_{server.name}.lua"
    write_params(path, own)
    return path


def sweep_ms(server: Served) -> float:
    env = {**server.env, "DJANGO_SETTINGS_MODULE": "aftersales.settings"}
    out = subprocess.run([str(VENV_BIN / "python"), "-c", SWEEP_SNIPPET], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    line = next((line for line in out.stdout.splitlines() if line.startswith("SWEEP")), None)
    if line is None:
        raise RuntimeError(f"sweep of {server.name} failed:\n{out.stdout}\n{out.stderr}")
    return float(line.split()[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, type=Path, help="work tree of the code to compare against")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, help="data dir (default bench/data/<n>)")
    parser.add_argument("--only", default=",".join(HOT))
    parser.add_argument("--slices", type=int, default=4, help="slices per code and workload")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--sweeps", type=int, default=3, help="in-process sweeps of 1,000 due per code (0: none)")
    args = parser.parse_args()
    base = args.base.resolve()
    data_dir = (args.data or BENCH / "data" / str(args.n)).resolve()
    meta = json.loads((data_dir / "bench.json").read_text())
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(data_dir)}
    subprocess.run([str(VENV_BIN / "aftersales"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    commit = {tree: subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                                   text=True).stdout.strip() for tree in (base, ROOT)}
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    db = Db(data_dir, {**os.environ, "AFTERSALES_DB": os.environ.get("AFTERSALES_DB", "sqlite")})
    params = build_params(db, meta, run_id)
    servers = [Served("base", f"{base / 'src'}:{base / 'bench'}", data_dir), Served("new", str(BENCH), data_dir)]
    results = {"run_id": run_id, "n": args.n, "base": commit[base], "new": commit[ROOT] + " + working tree",
               "machine": machine(), "slices": args.slices, "seconds": args.seconds, "http": {}, "sweep_1000_ms": {}}
    try:
        for server in servers:
            server.wait()
        paths = {server.name: params_for(server, meta, params, data_dir) for server in servers}
        for name in filter(None, args.only.split(",")):
            for server in servers:  # warm both up
                wrk(server.base, name, paths[server.name], connections=8, duration=2)
            figures = {server.name: [] for server in servers}
            for i in range(args.slices):
                for server in (servers if i % 2 == 0 else servers[::-1]):
                    f = wrk(server.base, name, paths[server.name], connections=8, duration=args.seconds)
                    figures[server.name].append({"rps": f["rps"], "p95_ms": f["p95_ms"], "statuses": f["statuses"]})
            pairs = [new["rps"] / old["rps"] for old, new in zip(figures["base"], figures["new"], strict=True) if old["rps"]]
            summary = {code: round(statistics.mean(r["rps"] for r in runs), 1) for code, runs in figures.items()}
            results["http"][name] = {"slices": figures, "mean_rps": summary,
                                     "new_over_base": round(statistics.mean(pairs), 3) if pairs else None}
            log(f"{name:20s} base {summary['base']:7.1f}  new {summary['new']:7.1f} req/s  new/base "
                f"{results['http'][name]['new_over_base']}  statuses new {figures['new'][-1]['statuses']}")
        for i in range(args.sweeps):
            for server in (servers if i % 2 == 0 else servers[::-1]):
                results["sweep_1000_ms"].setdefault(server.name, []).append(sweep_ms(server))
        if args.sweeps:
            medians = {code: statistics.median(runs) for code, runs in results["sweep_1000_ms"].items()}
            results["sweep_1000_median_ms"] = medians
            log(f"sweep of 1,000 due: base {medians['base']:.0f} ms, new {medians['new']:.0f} ms")
    finally:
        for server in servers:
            server.stop()
        db.close()
    out = data_dir / f"ab-{run_id}.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    log(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    sys.exit(main())
