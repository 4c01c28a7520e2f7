"""Data-plane speed: ``config.runtime_wsgi`` beside a bare Django view, and the SDK payload.

Run:  .venv/bin/python bench/runtime.py [--seconds 2.5] [--rounds 4] [--workers 4] [--quick]

Three gunicorn servers (``bench.harness.gunicorn``: sync workers, PostgreSQL, Redis cache) on
loopback, driven in interleaved rounds (odd rounds in order, even rounds reversed) by client
processes:

(a) ``POST /bench/bare`` on a server with two middleware (request id, security): the floor;
(b) ``POST /api/v1/assign`` (one experiment, an already exposed unit) on the data plane;
(c) the same call on the full app (``config.wsgi``, every middleware), for comparison;
(d) ``GET /api/v1/sdk/<client_key>/features`` on the data plane (a cached payload of 10
    experiments);
(e) for reference, (a)'s view reading the request body first (``/bench/bare-read``), as every
    endpoint taking a JSON body must; the goal is still measured against (a).

Before measuring, (b) and (c) run in 3-second passes until a pass costs under 0.01 database
transactions per request: each sync worker keeps its own record of the exposures it wrote, so
until every worker has seen every "seen" unit, an exposed unit can still cost a write check.

Printed per round: requests/s, p50/p99 latency and database transactions per request; then the
medians over rounds, with throughput relative to the same round's (a) (the median of the
per-round ratios, which cancels load that other processes put on the machine between rounds).
Then the server time of a cached SDK payload, measured in process: the data plane's WSGI
application called directly (no network, no client) 20,000 times. Goals: (b) >= 85% of (a); a
cached payload's server time < 2 ms. ``bench/runtime_profile.py`` shows where an assign call's
server time goes.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.assign import SEEN_UNITS, _body, setup_definitions, transactions  # noqa: E402
from bench.harness import (  # noqa: E402
    PYTHON,
    ROOT,
    bench_env,
    gunicorn,
    median,
    percentile,
    recreate_database,
)

DATABASE = "verdict_bench_runtime"
SCENARIOS = {
    "a": "bare view, 2 middleware (floor)",
    "b": "assign, exposed unit, data plane",
    "c": "assign, exposed unit, full app",
    "d": "SDK payload (cached), data plane",
    "e": "bare view + body read, 2 middleware",
}
_TARGET: dict = {}


def _drive(args: tuple[str, float, int, int]) -> tuple[int, int, list[float]]:
    scenario, seconds, proc, threads = args
    port = _TARGET["ports"][scenario]
    key, client_key, size = _TARGET["key"], _TARGET["client_key"], _TARGET["size"]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    totals = {"n": 0, "errors": 0}
    latencies: list[float] = []

    def run(thread: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        n = errors = 0
        i = proc * 7919 + thread * 104_729
        while time.perf_counter() < deadline:
            i += 1
            started = time.perf_counter()
            try:
                if scenario == "d":
                    conn.request("GET", f"/api/v1/sdk/{client_key}/features")
                else:
                    path = {
                        "a": f"/bench/bare?size={size}",
                        "e": f"/bench/bare-read?size={size}",
                    }.get(scenario, "/api/v1/assign")
                    body = _body("b", f"seen-{i % SEEN_UNITS}")
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


def warm_until_no_writes(
    pool, scenario: str, url: str, procs: int, threads: int, limit: float = 90.0
) -> None:
    """Run ``scenario`` in 3-second passes until a pass costs under 0.01 database
    transactions per request (every worker remembers every exposed unit), or ``limit``
    seconds passed."""
    started = time.monotonic()
    while True:
        before = transactions(url)
        result = run_scenario(pool, scenario, 3.0, procs, threads)
        time.sleep(1.1)
        per_request = max(transactions(url) - before - 2, 0) / result["requests"]
        print(f"  warm-up ({scenario}): {per_request:.3f} db transactions/request")
        if per_request < 0.01 or time.monotonic() - started > limit:
            return


def payload_server_time(url: str, client_key: str, cache: str, calls: int = 20_000) -> dict:
    """Call the data plane's WSGI application directly for a cached payload; milliseconds."""
    code = f"""
import io, os, time, statistics
from config.runtime_wsgi import application
environ = {{
    "REQUEST_METHOD": "GET", "PATH_INFO": "/api/v1/sdk/{client_key}/features",
    "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
    "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
    "wsgi.errors": io.StringIO(), "REMOTE_ADDR": "127.0.0.1",
}}
def call():
    status = []
    body = b"".join(application(dict(environ), lambda s, h: status.append(s)))
    assert status[0].startswith("200"), status
    return len(body)
size = call()
times = []
for _ in range({calls}):
    t = time.perf_counter(); call(); times.append(time.perf_counter() - t)
times.sort()
print(size, statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000)
"""
    env = bench_env(
        url,
        DJANGO_SETTINGS_MODULE="config.settings.runtime",
        CACHE_URL=cache,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        VERDICT_LOG_LEVEL="WARNING",
    )
    out = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    return {"bytes": int(out[-3]), "p50": float(out[-2]), "p99": float(out[-1])}


def setup_client_key() -> str:
    from core.api_keys import api_key_create

    return api_key_create(name="bench-sdk", role="client")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.5, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="connections per process")
    parser.add_argument(
        "--cache", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument("--quick", action="store_true", help="1.5 s per scenario, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 1.5, 2

    url = recreate_database(DATABASE)
    key = setup_definitions(url)
    client_key = setup_client_key()
    from django.db import connections

    connections.close_all()
    print(
        f"gunicorn {args.workers} sync workers per server on PostgreSQL; CACHE_URL={args.cache}; "
        f"{args.procs * args.threads} connections; {os.cpu_count()} CPUs; "
        f"{args.rounds} rounds of {args.seconds:g} s per scenario"
    )
    settings = "bench.runtime_settings"
    common = {"CACHE_URL": args.cache, "DJANGO_SETTINGS_MODULE": settings}
    results: dict[str, list[dict]] = {s: [] for s in SCENARIOS}
    with (
        gunicorn(
            url,
            workers=args.workers,
            app="config.runtime_wsgi:application",
            ready_path="/bench/bare",
            BENCH_PLANE="floor",
            **common,
        ) as floor,
        gunicorn(
            url,
            workers=args.workers,
            app="config.runtime_wsgi:application",
            ready_path="/bench/bare",
            **common,
        ) as plane,
        gunicorn(
            url,
            workers=args.workers,
            ready_path="/bench/bare",
            CACHE_URL=args.cache,
            DJANGO_SETTINGS_MODULE="bench.settings",
        ) as full,
    ):
        conn = http.client.HTTPConnection(urlsplit(plane).hostname, urlsplit(plane).port)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        conn.request("POST", "/api/v1/assign", body=_body("b", "seen-1"), headers=headers)
        size = len(conn.getresponse().read())
        conn.close()
        ports = {"a": floor, "b": plane, "c": full, "d": plane, "e": floor}
        ports = {s: urlsplit(base).port for s, base in ports.items()}
        _TARGET.update(ports=ports, key=key, client_key=client_key, size=size)
        context = multiprocessing.get_context("fork")
        with context.Pool(args.procs) as pool:
            # Expose the "seen" units on both servers until every worker remembers them all
            # (each sync worker keeps its own record of the exposures it wrote): until a warm-up
            # pass costs (almost) no database transactions per request.
            for scenario in "bc":
                warm_until_no_writes(pool, scenario, url, args.procs, args.threads)
            # Every server once more, unmeasured: a server left idle during the warm-up above
            # answered its first measured round several times slower (the floor's round 1 fell
            # to 74-174 req/s against ~2,200 in later rounds), which inflated round 1's ratios.
            for scenario in SCENARIOS:
                run_scenario(pool, scenario, 1.5, args.procs, args.threads)
            for round_no in range(1, args.rounds + 1):
                order = list(SCENARIOS) if round_no % 2 else list(reversed(SCENARIOS))
                for scenario in order:
                    before = transactions(url)
                    result = run_scenario(pool, scenario, args.seconds, args.procs, args.threads)
                    time.sleep(1.1)  # backends report to pg_stat_database at most once a second
                    # Minus the two of the measurement itself.
                    result["db"] = max(transactions(url) - before - 2, 0) / result["requests"]
                    results[scenario].append(result)
                    print(
                        f"  round {round_no} ({scenario}) {result['rps']:7.0f} req/s  "
                        f"p50 {result['p50']:5.1f} ms  p99 {result['p99']:5.1f} ms  "
                        f"{result['db']:.3f} db transactions/request"
                    )
    floor_rps = [r["rps"] for r in results["a"]]
    print()
    print(f"{'scenario':<40} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs (a)':>7}")
    ratios = {}
    for scenario, label in SCENARIOS.items():
        rps = [r["rps"] for r in results[scenario]]
        ratios[scenario] = median([x / f for x, f in zip(rps, floor_rps, strict=True)])
        p50 = median([r["p50"] for r in results[scenario]])
        p99 = median([r["p99"] for r in results[scenario]])
        print(
            f"({scenario}) {label:<36} {median(rps):8.0f} {p50:7.1f} {p99:7.1f} "
            f"{ratios[scenario]:7.0%}"
        )
    server = payload_server_time(url, client_key, args.cache)
    print()
    print(
        f"cached SDK payload ({server['bytes']} bytes), server time in process: "
        f"p50 {server['p50']:.3f} ms, p99 {server['p99']:.3f} ms"
    )
    b = ratios["b"]
    print(f"goal (b) >= 85% of (a): {b:.0%} {'met' if b >= 0.85 else 'MISSED'}")
    e_rps = [r["rps"] for r in results["e"]]
    b_vs_e = median([x / f for x, f in zip([r["rps"] for r in results["b"]], e_rps, strict=True)])
    print(f"(b) relative to (e), the floor that reads its body: {b_vs_e:.0%} (for reference)")
    print(
        f"goal cached payload < 2 ms server time: p50 {server['p50']:.3f} ms "
        f"{'met' if server['p50'] < 2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
