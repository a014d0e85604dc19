"""`make bench`: issue 8's whole suite on one dataset size, on SQLite and on PostgreSQL, as one table.

BENCH_SIZE (S, M or L; `make bench SIZE=L`), BENCH_DATABASES (default "sqlite,postgresql"),
BENCH_POSTGRES_URL (a server where the bench may create and drop the databases lms_bench and
lms_bench_scratch; default postgresql+psycopg://postgres@127.0.0.1:5432), BENCH_DURATION (per wrk run, default
3s). Writes bench/results/<size>-<database>.json; bench/README.md explains the columns.
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import capacity  # noqa: E402
import certificates  # noqa: E402
import load  # noqa: E402
import notifications  # noqa: E402
import reports  # noqa: E402
import sync  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from lms import create_app  # noqa: E402
from lms.bench_data import SIZES  # noqa: E402

SIZE = os.environ.get("BENCH_SIZE", "S")
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
DURATION = os.environ.get("BENCH_DURATION", "3s")

# Targets of issue 8: a throughput is a share of B0's requests per second, a time a bound in milliseconds.
RATIO_TARGETS = {"F0 signed-in floor": 0.35, "S1 module page": 0.5, "S2 trainee dashboard": 0.4,
                 "S3 submit a practice entry": 0.25, "S4 grading queue, page 1": 0.35,
                 "S4 grading queue, deepest page": 0.35}
MAX_QUERIES = 8
CAPACITY_GOALS = {"sqlite": 1000, "postgresql": 2000}  # issue 23: people at once per core
MAX_RSS_MB = 120


def databases():
    """(name, url of the benchmark database, url of an empty scratch database) for each database asked for."""
    for name in DATABASES:
        if name == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="lms-bench-"))
            yield name, f"sqlite:///{folder / 'bench.sqlite3'}", f"sqlite:///{folder / 'scratch.sqlite3'}"
        elif name == "postgresql":
            admin = create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                for database in ("lms_bench", "lms_bench_scratch"):
                    connection.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                    connection.execute(text(f"CREATE DATABASE {database}"))
            admin.dispose()
            yield name, f"{POSTGRES}/lms_bench", f"{POSTGRES}/lms_bench_scratch"
        else:
            sys.exit(f"unknown database {name!r}: use sqlite and/or postgresql")


def run(database, url, scratch):
    print(f"== size {SIZE} on {database}", flush=True)
    pages, worker_model, comparison = load.run_pages(url, SIZE, DURATION)
    people = None
    if SIZES[SIZE].trainees >= 1000:  # at S a hundred trainees would each be played by many people at once
        server = load.Server("wsgi:app", load.server_env(url), ROOT, capacity.WORKERS)
        try:
            people = capacity.measure(url, server)
        finally:
            server.stop()
        print("  capacity done", flush=True)
    timings = {}
    app = create_app(load.config_for(url))
    timings.update(reports.measure(app))
    print("  S6, S7 done", flush=True)
    timings.update(certificates.measure(scratch))
    print("  S8, S9 done", flush=True)
    timings.update(sync.measure(scratch))
    print("  S10 done", flush=True)
    timings.update(notifications.measure(scratch))
    print("  S11 done", flush=True)
    return {"size": SIZE, "database": database, "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _commit(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "server": f"gunicorn, {worker_model}, pinned to core 0; wrk on core 1", "wrk_duration": DURATION,
            "worker_models": comparison, "pages": pages, "timings": timings, "capacity": people}


def print_table(result):
    pages, base = result["pages"], result["pages"]["B0 bare Flask"]["rps"]
    print(f"\nsize {result['size']}, {result['database']}: {result['server']}")
    floor = pages["F0 signed-in floor"]["rps"]
    print(f"{'scenario':34} {'req/s':>7} {'/B0':>5} {'/F0':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'SQL':>4} "
          f"{'RSS MB':>6}  missed")
    for name, r in pages.items():
        missed = []
        ratio = r["rps"] / base
        if name in RATIO_TARGETS and ratio < RATIO_TARGETS[name]:
            missed.append(f"/B0 < {RATIO_TARGETS[name]}")
        if r["p99_ms"] > 4 * r["p50_ms"]:
            missed.append("p99 > 4 p50")
        if (r["queries"] or 0) > MAX_QUERIES:
            missed.append(f"SQL > {MAX_QUERIES}")
        if r["peak_rss_mb"] > MAX_RSS_MB:
            missed.append(f"RSS > {MAX_RSS_MB}")
        if r["errors"] or r.get("database_locked"):
            missed.append(f"{r['errors']} errors, {r.get('database_locked', 0)} locked")
        queries = "" if r["queries"] is None else r["queries"]
        print(f"{name:34} {r['rps']:7.0f} {ratio:5.2f} {r['rps'] / floor:5.2f} {r['p50_ms']:6.2f} {r['p95_ms']:6.2f} "
              f"{r['p99_ms']:6.2f} "
              f"{queries:>4} {r['peak_rss_mb']:6.1f}  {', '.join(missed)}")
    deepest, first = pages["S4 grading queue, deepest page"], pages["S4 grading queue, page 1"]
    if first["rps"] > 1.2 * deepest["rps"]:
        print("  missed: the deepest queue page is more than 1.2x slower than the first")
    if min(first["rps"], deepest["rps"]) < pages["S1 module page"]["rps"]:
        print("  missed: the grading queue serves fewer requests per second than the module page")
    print(f"{'timing':46} {'ms':>8} {'best':>8} {'SQL':>5} {'target':>7}")
    for name, t in result["timings"].items():
        queries = "" if t.get("queries") is None else t["queries"]
        late = "  missed" if t["ms"] > t["target_ms"] else ""
        print(f"{name:46} {t['ms']:8.1f} {t.get('best_ms', t['ms']):8.1f} {queries:>5} {t['target_ms']:7.0f}{late}")
    if result.get("capacity"):
        people, goal = result["capacity"], CAPACITY_GOALS[result["database"]]
        print(f"people working at once on one core, p95 under {capacity.P95_LIMIT_MS} ms and no errors: "
              f"{people['users_per_core']} at {people['rps']:.0f} req/s (goal {goal})"
              + ("  missed" if people["users_per_core"] < goal else ""))
        for step in people["steps"]:
            print(f"  {step['users']:5} people {step['rps']:6.0f} req/s  p50 {step['p50_ms']:5.0f} ms  "
                  f"p95 {step['p95_ms']:5.0f} ms  {step['failures']} failed  {step['database_locked']} locked")


def _commit():
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()


def main():
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    started = time.perf_counter()
    results = []
    for database, url, scratch in databases():
        result = run(database, url, scratch)
        results.append(result)
        out = ROOT / "bench" / "results" / f"{SIZE}-{database}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    for result in results:
        print_table(result)
    measured = {r["database"]: r["capacity"] for r in results if r["capacity"]}
    if measured:
        capacity.chart(measured, ROOT / "bench" / "results" / f"{SIZE}-capacity.svg")
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
