"""Write bench/RESULTS.md from every bench/data/<n>/results.json (SQLite) and bench/data/<n>-pg/results.json
(PostgreSQL): the SQLite runs first, largest N first.

    .venv/bin/python bench/report.py
"""

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent

SWEEP_TARGETS = {"nothing due": 5.0, "1,000 due": 2000.0}
COMPLIANCE_TARGETS = {"one month, all branches": 300.0, "one customer's year": 1500.0}


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def lat(f):
    return f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} / {f['p99_ms']:.1f}"


def non2xx(f):
    bad = {k: v for k, v in f["statuses"].items() if not k.startswith("2")}
    errors = {k: v for k, v in f["errors"].items() if v and k != "status"}
    parts = [f"{k}×{v}" for k, v in sorted(bad.items())] + [f"{k}×{v}" for k, v in errors.items()]
    return ", ".join(parts) or "0"


def verdict(f, target):
    if not target:
        return "(no target)"
    misses = []
    if "rps" in target and f["rps"] < target["rps"]:
        misses.append(f"{f['rps']:.0f} < {target['rps']} req/s")
    if "p95_ms" in target and f["p95_ms"] > target["p95_ms"]:
        misses.append(f"p95 {f['p95_ms']:.0f} > {target['p95_ms']} ms")
    return "**not met**: " + "; ".join(misses) if misses else "met"


def target_text(target):
    if not target:
        return "–"
    parts = []
    if "rps" in target:
        parts.append(f"≥ {target['rps']} req/s")
    if "p95_ms" in target:
        parts.append(f"p95 ≤ {target['p95_ms']} ms")
    return ", ".join(parts)


def database(r) -> str:
    """The run's database and version: "SQLite 3.40.1", "PostgreSQL 15.18" (runs without "db" were on SQLite)."""
    return r.get("db_version") or f"SQLite {r['machine']['versions'].get('SQLite', '')}".strip()


def plan_text(plan) -> str:
    return "; ".join(line.strip() for line in plan)


def section(r) -> tuple[list[str], list[str]]:
    """The Markdown of one run, and its list of unmet targets."""
    m = r["machine"]
    lines, unmet = [], []
    n = r["n"]
    pg = r.get("db") == "postgres"
    driver = "psycopg" if pg else "sqlite3"
    if pg:
        stored = "PostgreSQL, `VACUUM ANALYZE` run after loading; " + ", ".join(f"{k}={v}" for k, v in r.get("db_settings", {}).items())
    else:
        stored = "SQLite WAL, `ANALYZE` run after loading"
    lines += [f"## N = {n:,} requests, {database(r)} ({r['date']})", "",
              f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gib']} GiB, Linux {m['kernel']}",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
              f"- command: `.venv/bin/python bench/generate.py --n {n}{' --db postgres' if pg else ''}` then `{r['command']}`",
              f"- data: generated in {fmt(r.get('generation_seconds'))} s, database {r.get('db_bytes', 0) / 2**20:,.0f} MiB "
              f"({stored}); server: `aftersales serve` = gunicorn, 2 sync workers, 127.0.0.1",
              "- load: wrk closed loop, c1 = `-t1 -c1`, c8 = `-t2 -c8`, each after a c8 warm-up; latencies from wrk's "
              "histogram (Lua `done()`)", ""]
    http = r["http"]
    floor = http["ping"]["c8"]["rps"]
    lines += ["### HTTP", "",
              "| workload | c1 req/s | c1 p50 / p95 / p99 ms | c8 req/s | c8 p50 / p95 / p99 ms | non-2xx / errors (c8) | c8 ÷ floor | target (c8) | verdict |",
              "|---|---:|---|---:|---|---|---:|---|---|"]
    p = http["ping"]
    lines.append(f"| framework floor: bare Django view, same middleware and server | {p['c1']['rps']:,.0f} | {lat(p['c1'])} | "
                 f"{p['c8']['rps']:,.0f} | {lat(p['c8'])} | {non2xx(p['c8'])} | 1.000 | – | reference |")
    for name, f in http.items():
        if name == "ping":
            continue
        v = verdict(f["c8"], f.get("target"))
        if v.startswith("**not"):
            unmet.append(f"{f['label']}: {v[len('**not met**: '):]} (target {target_text(f['target'])})")
        lines.append(f"| {f['label']} | {f['c1']['rps']:,.1f} | {lat(f['c1'])} | {f['c8']['rps']:,.1f} | {lat(f['c8'])} | "
                      f"{non2xx(f['c8'])} | {f['c8']['rps'] / floor:.3f} | {target_text(f.get('target'))} | {v} |")
    rss = r.get("rss_mb") or []
    peak = max(rss) if rss else None
    lines += ["", f"Worker peak RSS (VmHWM of each gunicorn worker at the end of the run): {', '.join(f'{x:.0f} MB' for x in rss)}"
              f" — target ≤ 150 MB: {'met' if peak and peak <= 150 else '**not met**'}; floor server workers: "
              f"{', '.join(f'{x:.0f} MB' for x in http['ping'].get('rss_mb', []))}.", ""]
    if peak and peak > 150:
        unmet.append(f"worker peak RSS {peak:.0f} MB > 150 MB")
    checks = r.get("checks", {})
    if checks:
        lines += ["### Integrity checks after the writes", ""]
        c = checks.get("create")
        if c:
            lines.append(f"- create: {c['acknowledged_201']:,} answered 201, {c['rows']:,} rows with the run's title "
                         f"({c['in_flight_at_stop']} served after wrk stopped counting at its deadline) → "
                         f"{'every acknowledged request is present' if c['ok'] else '**MISMATCH**'}")
            if not c["ok"]:
                unmet.append("create: acknowledged requests missing")
        c = checks.get("reply")
        if c:
            lines.append(f"- reply: {c['answered_200']:,} answered 200 on {c['fresh_ids']:,} fresh requests, {c['replied_rows']:,} "
                         f"rows now `replied` → {'consistent' if c['ok'] else '**MISMATCH**'} (409s are repeats after the fresh ids ran out)")
        for name in ("alarms", "alarms_quarter_new"):
            c = checks.get(name)
            if c:
                lines.append(f"- {name}: statuses {c['statuses']}, events opened {c['opened']:,} / appended {c['appended']:,}, "
                             f"ActiveAlarm rows {c['active_alarm_rows']:,}, (device, type) pairs with more than one open request: "
                             f"{c['pairs_with_more_than_one_open_request']} → {'exactly one open request per device and type' if c['ok'] else '**CHECK FAILED**'}")
                if not c["ok"]:
                    unmet.append(f"{name}: uniqueness check failed")
        lines.append("")
    ip = r.get("inproc", {})
    if r.get("inproc_note"):
        lines += [f"_{r['inproc_note']}._", ""]
    if "error" in ip:
        lines += ["### In-process figures", "", "failed:", "", "```", ip["error"][-2000:], "```", ""]
        return lines, unmet
    lines += ["### Background figures (in-process, same data)", "", "| figure | result | queries | target | verdict |", "|---|---|---|---|---|"]
    s0, s1 = ip["sweep"]["nothing due"], ip["sweep"]["1,000 due"]
    ok0 = s0["median_ms"] <= 5 and len(s0["queries"]) == 1
    lines.append(f"| SLA sweep, nothing due | {s0['median_ms']:.2f} ms median of 20 | {s0['queries']} | ≤ 5 ms, constant | {'met' if ok0 else '**not met**'} |")
    ok1 = s1["ms"] <= 2000 and s1["handled"] >= 1000
    note = "" if s1["handled"] >= 1000 else f" (only {s1['handled']} open requests past due exist at this N)"
    lines.append(f"| SLA sweep, {s1['handled']:,} due{note} | {s1['ms']:,.0f} ms; {s1['alerts_written']:,} alerts, "
                 f"{s1['events_written']:,} timeline events, {s1['outbox_rows_written']:,} outbox rows | {s1['queries']:,} "
                 f"({s1['queries_per_request']} per request) | ≤ 2 s for 1,000 | "
                 f"{'met' if ok1 else ('**not met**' if s1['handled'] >= 1000 else 'n/a (fewer than 1,000 due); ' + ('extrapolated ' + format(s1['ms'] / max(s1['handled'], 1) * 1000, ',.0f') + ' ms'))} |")
    if not ok0:
        unmet.append(f"SLA sweep, nothing due: {s0['median_ms']:.2f} ms")
    if s1["handled"] >= 1000 and not ok1:
        unmet.append(f"SLA sweep, 1,000 due: {s1['ms']:,.0f} ms, {s1['queries']:,} queries ({s1['queries_per_request']} per request)")
    comp = ip["compliance"]
    for key, limit in COMPLIANCE_TARGETS.items():
        c = comp[key]
        ok = c["median_ms"] <= limit
        what = f"month {c['month']}" if "month" in c else f"customer {c['customer']}, year {c['year']}"
        raw = comp[f"raw {driver}, " + ("one month" if "month" in c else "customer year")]
        lines.append(f"| compliance summary, {key} ({what}) | {c['median_ms']:,.1f} ms median of 5; raw SQL in {driver} "
                     f"{raw:,.1f} ms | 1 | ≤ {limit:,.0f} ms | {'met' if ok else '**not met**'} |")
        if not ok:
            unmet.append(f"compliance summary, {key}: {c['median_ms']:,.0f} ms > {limit:,.0f} ms")
    csv = ip["csv export"]
    if not csv.get("exists"):
        lines.append(f"| streamed CSV export of one customer's year | not measured: {csv.get('note', '')} | – | first byte ≤ 1 s, flat memory | **not met (missing)** |")
        unmet.append("streamed CSV export of a customer's year: does not exist in the product")
    else:
        # Flat: the Python heap peak of the largest export (a whole branch) stays within 1.5× the year's, whatever the rows.
        year, biggest = csv["cases"]["one year"], max(csv["cases"].values(), key=lambda c: c["rows"])
        flat = biggest["python_peak_kib"] <= 1.5 * year["python_peak_kib"]
        ok = year["status"] == 200 and year["first_row_ms"] <= 1000 and flat
        for label, c in csv["cases"].items():
            is_year = c is year
            lines.append(
                f"| streamed CSV export, {label} (`{c['path']}`, general manager) | first byte {c['first_byte_ms']:,.0f} ms, "
                f"first row {c['first_row_ms']:,.0f} ms, {c['rows']:,} rows ({c['bytes'] / 2**20:,.1f} MiB) in "
                f"{c['total_ms'] / 1000:,.2f} s; Python heap peak {c['python_peak_kib'] / 1024:,.1f} MiB (tracemalloc), peak RSS "
                f"+{c['rss_peak_growth_kib'] / 1024:,.1f} MiB | {c['queries']} | "
                f"{'first row ≤ 1 s, heap flat (largest export ≤ 1.5× the year)' if is_year else '– (for comparison)'} | "
                f"{('met' if ok else '**not met**') if is_year else ''} |")
        if not ok:
            unmet.append(f"streamed CSV export of a customer's year: first row {year['first_row_ms']:,.0f} ms, heap peak "
                         f"{year['python_peak_kib']:,} KiB (largest export {biggest['python_peak_kib']:,} KiB)")
    lines += ["", f"### Data floor (the queue's SQL straight through `{driver}`, median of 20)", ""]
    for label, d in ip["data floor"].items():
        if d.get("django_sends") == "literals":
            lines.append(f"- {label}: **{d['ms_literals']:.3f} ms with the values inlined as literals, as Django's psycopg "
                         f"backend sends them** (plan: {plan_text(d['plan_literals'])}), {d['ms']:.3f} ms with the parameters "
                         f"bound server-side (plan: {plan_text(d['plan_bound'])}) — `{d['sql'][:200]}…`")
        elif "ms_literals" in d:
            lines.append(f"- {label}: **{d['ms']:.3f} ms with the parameters bound as Django sends them** (plan: "
                         f"{'; '.join(d['plan_bound'])}), {d['ms_literals']:.3f} ms with the values inlined as literals "
                         f"(plan: {'; '.join(d['plan_literals'])}) — `{d['sql'][:200]}…`")
        else:
            lines.append(f"- {label}: {d['ms']:.3f} ms (values inlined as literals) — `{d['sql'][:300]}{'…' if len(d['sql']) > 300 else ''}`")
    q = http.get("queue_api", {}).get("c8")
    if q and ip["data floor"]:
        total = sum(d["ms_literals"] if d.get("django_sends") == "literals" else d["ms"] for d in ip["data floor"].values())
        lines.append(f"- the queue's SQL costs {total:.2f} ms of a call that takes {1000 / q['rps'] * 2:.1f} ms of worker time at c8 "
                     f"(2 workers ÷ {q['rps']:.0f} req/s): the data layer is {100 * total / (2000 / q['rps']):.0f} % of it.")
    lines += ["", "### Queries per call (Django test client, CaptureQueriesContext)", "", "| call | status | queries |", "|---|---|---:|"]
    for label, e in ip["endpoints"].items():
        lines.append(f"| {label} | {e['status']} | {e['queries']} |")
    lines.append("")
    return lines, unmet


def write_results(_results=None, path: Path = BENCH / "RESULTS.md") -> None:
    runs = []
    for f in (BENCH / "data").glob("*/results.json"):
        runs.append(json.loads(f.read_text()))
    runs.sort(key=lambda r: (r.get("db", "sqlite") != "sqlite", -r["n"]))
    out = ["# Benchmark results (issue 12)", "",
           "Written by `bench/run.py` (see bench/README.md). Figures are from one run each; compare them with the framework "
           "floor of the same run (the `÷ floor` column), not across machines.", ""]
    notes = BENCH / "NOTES.md"
    if notes.exists():
        out += [notes.read_text(), ""]
    for r in runs:
        lines, unmet = section(r)
        out += lines
        out += [f"### Targets not met at N = {r['n']:,}, {database(r)}", ""] + ([f"- {u}" for u in unmet] or ["- none"]) + [""]
    path.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    write_results()
    print(f"wrote {BENCH / 'RESULTS.md'}", file=sys.stderr)
