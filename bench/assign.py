"""Assign API speed: gunicorn sync workers on PostgreSQL, driven over loopback.

Run:  .venv/bin/python bench/assign.py [--seconds 2.5] [--rounds 6] [--workers 4] [--quick]

Side by side in one run, interleaved round by round (16 concurrent connections by default;
odd rounds run the scenarios in order, even rounds in reverse, so a slow drift in the machine's
load does not favour one scenario):

(a) ``POST /bench/bare``: a bare Django view answering a JSON body of the same size as (b),
    through the same middleware: the floor the framework sets;
(b) ``POST /api/v1/assign``, one experiment, units already exposed (no database write);
(c) the same for new units: one exposure row stored per request before the answer;
(d) ``POST /api/v1/assign`` asking for 10 experiments, units already exposed;
(e) the same as (d) for new units (10 exposure rows per request).

Printed per scenario: requests/s, p50 and p99 latency (medians over rounds) and the throughput
relative to (a) (the median over rounds of the ratio to the same round's (a), which cancels
load that other processes put on the machine between rounds). Goals on a 2-core machine:
(b) >= 70% of (a), (c) >= 40% of (a), p99 < 25 ms. The load generator runs on the same machine
and takes part of the CPU.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_env, gunicorn, median, percentile, recreate_database  # noqa: E402

DATABASE = "verdict_bench_assign"
EXPERIMENTS = [f"bench-exp-{i}" for i in range(10)]
ATTRIBUTES = {"country": "SG", "plan": "free", "app_version": "3.4.1"}
SEEN_UNITS = 1000
SCENARIOS = {
    "a": "bare Django view, same body size",
    "b": "assign 1 experiment, exposed unit",
    "c": "assign 1 experiment, new unit",
    "d": "assign 10 experiments, exposed unit",
    "e": "assign 10 experiments, new unit",
}

_TARGET: dict = {}


def setup_definitions(url: str) -> str:
    """Create 10 running experiments (one targeted, one in a layer) and an app key."""
    os.environ.update(bench_env(url, DJANGO_SETTINGS_MODULE="bench.settings"))
    import django

    django.setup()
    from django.db import connections

    from core.actors import Actor
    from core.api_keys import api_key_create
    from experiments.models import Experiment, ExperimentMetric, Layer, Metric, Variant
    from experiments.services.lifecycle import experiment_transition

    metric = Metric.objects.create(key="paid", name="Paid", type="conversion", event="purchase")
    layer = Layer.objects.create(key="pricing-page", name="Pricing page")
    for i, key in enumerate(EXPERIMENTS):
        exp = Experiment.objects.create(
            key=key,
            name=key,
            kind="pricing",
            targeting={"country": {"$in": ["SG", "CN"]}} if i == 1 else {},
            layer=layer if i == 2 else None,
            layer_share=1.0,
        )
        for position, (variant, price) in enumerate((("control", 39), ("discount", 29))):
            Variant.objects.create(
                experiment=exp,
                key=variant,
                name=variant,
                is_control=position == 0,
                position=position,
                payload={"monthly_price": price, "currency": "EUR"},
            )
        ExperimentMetric.objects.create(experiment=exp, metric=metric, role="primary")
        experiment_transition(actor=Actor.system("bench"), experiment=exp, action="start")
    _, raw = api_key_create(name="bench-assign", role="app")
    connections.close_all()
    return raw


def _body(scenario: str, unit_id: str) -> bytes:
    keys = EXPERIMENTS if scenario in "de" else EXPERIMENTS[:1]
    return json.dumps({"unit_id": unit_id, "attributes": ATTRIBUTES, "experiments": keys}).encode()


def _drive(args: tuple[str, float, int, int]) -> tuple[int, int, list[float]]:
    """One client process: ``threads`` connections sending ``scenario`` requests until the
    deadline. Returns (requests, errors, latencies in seconds)."""
    scenario, seconds, proc, threads = args
    host, port, key, bare_size = (
        _TARGET["host"],
        _TARGET["port"],
        _TARGET["key"],
        _TARGET["bare_size"],
    )
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    path = f"/bench/bare?size={bare_size}" if scenario == "a" else "/api/v1/assign"
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    totals = {"n": 0, "errors": 0}
    latencies: list[float] = []
    stamp = time.time_ns()

    def run(thread: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        local: list[float] = []
        n = errors = 0
        i = proc * 7919 + thread * 104_729
        while time.perf_counter() < deadline:
            i += 1
            if scenario in "ce":
                unit = f"new-{stamp}-{proc}-{thread}-{i}"
            else:
                unit = f"seen-{i % SEEN_UNITS}"
            body = _body("b" if scenario == "a" else scenario, unit)
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            local.append(time.perf_counter() - started)
            n += 1
            errors += not ok
        conn.close()
        with lock:
            totals["n"] += n
            totals["errors"] += errors
            latencies.extend(local)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return totals["n"], totals["errors"], latencies


def run_scenario(pool, scenario: str, seconds: float, procs: int, threads: int) -> dict:
    started = time.perf_counter()
    results = pool.map(_drive, [(scenario, seconds, p, threads) for p in range(procs)])
    elapsed = time.perf_counter() - started
    latencies = [x for _, _, part in results for x in part]
    requests = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    if errors:
        raise RuntimeError(f"scenario {scenario}: {errors} of {requests} requests failed")
    return {
        "rps": requests / elapsed,
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "requests": requests,
    }


def analyze(url: str) -> None:
    """Give the planner statistics of the exposure table, as autovacuum does on a live one (a
    table that was empty when the benchmark started has none)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE assignment_exposure")


def exposure_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM assignment_exposure").fetchone()[0]


def transactions(url: str) -> int:
    """Transactions committed in the database so far (each autocommit statement is one)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]


def answer_size(base: str, key: str) -> int:
    """The body size of a (b) answer, which (a) answers too."""
    split = urlsplit(base)
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request("POST", "/api/v1/assign", body=_body("b", "seen-1"), headers=headers)
    response = conn.getresponse()
    size = len(response.read())
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"assign failed: HTTP {response.status}")
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.5, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="connections per process")
    parser.add_argument(
        "--cache",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14"),
        help="CACHE_URL for the server ('' for per-process memory)",
    )
    parser.add_argument(
        "--warm-seconds",
        type=float,
        default=15.0,
        help="time spent exposing the (b)/(d) units before measuring, ~15 calls per unit",
    )
    parser.add_argument("--quick", action="store_true", help="1.5 s per scenario, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 1.5, 2

    url = recreate_database(DATABASE)
    key = setup_definitions(url)
    connections = args.procs * args.threads
    print(
        f"gunicorn {args.workers} sync workers on PostgreSQL; CACHE_URL={args.cache or '(local)'}; "
        f"{connections} concurrent connections from {args.procs} client processes; "
        f"{os.cpu_count()} CPUs; {args.rounds} rounds of {args.seconds:g} s per scenario"
    )
    results: dict[str, list[dict]] = {s: [] for s in SCENARIOS}
    with gunicorn(
        url, workers=args.workers, DJANGO_SETTINGS_MODULE="bench.settings", CACHE_URL=args.cache
    ) as base:
        split = urlsplit(base)
        bare_size = answer_size(base, key)
        _TARGET.update(host=split.hostname, port=split.port, key=key, bare_size=bare_size)
        print(f"answer body of (b): {bare_size} bytes; (a) answers the same size")
        context = multiprocessing.get_context("fork")
        with context.Pool(args.procs) as pool:
            # Expose the "seen" units in all 10 experiments, several times over, so that most
            # workers have most of them in their in-process record of written exposures.
            warm = run_scenario(pool, "d", args.warm_seconds, args.procs, args.threads)
            print(f"warm-up: {warm['requests']} calls over {SEEN_UNITS} exposed units")
            analyze(url)
            for round_no in range(1, args.rounds + 1):
                order = list(SCENARIOS) if round_no % 2 else list(reversed(SCENARIOS))
                for scenario in order:
                    before = exposure_count(url) if scenario in "ce" else 0
                    xact_before = transactions(url)
                    result = run_scenario(pool, scenario, args.seconds, args.procs, args.threads)
                    time.sleep(1.1)  # backends report to pg_stat_database at most once a second
                    # Minus the two of this measurement itself (and of exposure_count).
                    result["db"] = max(transactions(url) - xact_before - 2, 0) / result["requests"]
                    if scenario in "ce":
                        per_request = 10 if scenario == "e" else 1
                        written = exposure_count(url) - before
                        if written != result["requests"] * per_request:
                            raise RuntimeError(
                                f"({scenario}) {result['requests']} requests stored {written} "
                                "exposures"
                            )
                    results[scenario].append(result)
                    print(
                        f"  round {round_no} ({scenario}) {result['rps']:7.0f} req/s  "
                        f"p50 {result['p50']:5.1f} ms  p99 {result['p99']:5.1f} ms  "
                        f"{result['db']:.2f} db transactions/request"
                    )

    floor = median([r["rps"] for r in results["a"]])
    print()
    print(f"{'scenario':<42} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs (a)':>7}")
    for scenario, label in SCENARIOS.items():
        rps = median([r["rps"] for r in results[scenario]])
        p50 = median([r["p50"] for r in results[scenario]])
        p99 = median([r["p99"] for r in results[scenario]])
        print(f"({scenario}) {label:<38} {rps:8.0f} {p50:7.1f} {p99:7.1f} {rps / floor:7.0%}")
    b = median([r["rps"] for r in results["b"]]) / floor
    c = median([r["rps"] for r in results["c"]]) / floor
    worst_p99 = max(median([r["p99"] for r in results[s]]) for s in "bcd")
    print()
    print(f"goal (b) >= 70% of (a): {b:.0%} {'met' if b >= 0.7 else 'MISSED'}")
    print(f"goal (c) >= 40% of (a): {c:.0%} {'met' if c >= 0.4 else 'MISSED'}")
    print(
        f"goal p99 < 25 ms for (b), (c), (d): worst {worst_p99:.1f} ms "
        f"{'met' if worst_p99 < 25 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
