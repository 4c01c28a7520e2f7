"""Soak: assign and events at a steady rate against gunicorn on PostgreSQL, over loopback.

Run:  .venv/bin/python bench/soak.py [--minutes 10] [--assign-rate 40] [--event-rate 5]
          [--batch 10] [--workers 2] [--sample-seconds 10]

The server is started here (gunicorn, production settings, a fresh PostgreSQL database named
``verdict_soak``, 10 running experiments and an app key) on 127.0.0.1 only, and stopped when
the run ends; the run stops by itself after ``--minutes``. Requests are sent open-loop at a fixed
rate (``--assign-rate`` assign calls and ``--event-rate`` event batches of ``--batch`` events
per second), from a bounded pool of client threads; units are drawn from a pool of 20,000 so
that new and already-exposed units mix, as on a live site.

Printed: requests and throughput per endpoint, p50/p99 latency, errors by status code (must
be 0), the server processes' resident memory every ``--sample-seconds`` (must level off: the
last third of the run may not grow more than 10% over the middle third), and the stored counts
against the acknowledged ones (exposures: distinct units answered in an experiment; events:
the ``accepted`` counts), which must be equal. Exits 1 when any of these fails.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.assign import EXPERIMENTS, setup_definitions  # noqa: E402
from bench.harness import (  # noqa: E402
    PYTHON,
    ROOT,
    bench_env,
    free_port,
    percentile,
    recreate_database,
)

DATABASE = "verdict_soak"
UNITS = 20_000
HOST = "127.0.0.1"  # loopback only
ATTRIBUTES = {"country": "SG", "plan": "free", "app_version": "3.4.1"}


class Tally:
    """What the clients saw, per endpoint (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.exposed: set[tuple[str, str]] = set()
        self.events_acked = 0
        self.late = 0

    def record(self, endpoint: str, seconds: float, code: int) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            self.codes[endpoint][code] += 1


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def server_rss_mb(master: int) -> float:
    """Resident memory of the gunicorn master and its workers, in MB."""
    return sum(_rss_kb(p) for p in [master, *_children(master)]) / 1024


def _assign(conn: http.client.HTTPConnection, key: str, tally: Tally, rng: random.Random) -> None:
    unit = f"u-{rng.randrange(UNITS)}"
    body = json.dumps({"unit_id": unit, "attributes": ATTRIBUTES, "experiments": EXPERIMENTS})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    started = time.perf_counter()
    conn.request("POST", "/api/v1/assign", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    tally.record("assign", time.perf_counter() - started, response.status)
    if response.status == 200:
        answers = json.loads(data)["assignments"]
        with tally.lock:
            tally.exposed.update((a["experiment"], unit) for a in answers if a["in_experiment"])


def _events(
    conn: http.client.HTTPConnection, key: str, tally: Tally, rng: random.Random, batch: int
) -> None:
    now = dt.datetime.now(dt.UTC).isoformat()
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "unit_id": f"u-{rng.randrange(UNITS)}",
            "event": "purchase",
            "timestamp": now,
            "value": round(rng.uniform(1, 100), 2),
            "properties": {"currency": "EUR"},
        }
        for _ in range(batch)
    ]
    body = json.dumps({"events": events, "sent_at": now})
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    started = time.perf_counter()
    conn.request("POST", "/api/v1/events", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    tally.record("events", time.perf_counter() - started, response.status)
    if response.status == 200:
        with tally.lock:
            tally.events_acked += json.loads(data)["accepted"]


def _client(
    endpoint: str,
    rate: float,
    deadline: float,
    port: int,
    key: str,
    tally: Tally,
    seed: int,
    batch: int,
) -> None:
    """Send one request every 1/rate seconds until the deadline (open loop: a slow answer
    does not lower the rate; sends that fall behind are counted as late and sent at once; at
    the deadline the client stops, sent or not)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    rng = random.Random(seed)
    interval = 1.0 / rate
    due = time.perf_counter() + rng.uniform(0, interval)
    while due < deadline and time.perf_counter() < deadline:
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        elif pause < -interval:
            with tally.lock:
                tally.late += 1
        try:
            if endpoint == "assign":
                _assign(conn, key, tally, rng)
            else:
                _events(conn, key, tally, rng, batch)
        except (OSError, http.client.HTTPException) as exc:
            tally.record(endpoint, 0.0, -1)
            print(f"  {endpoint}: {exc!r}", file=sys.stderr)
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
        due += interval
    conn.close()


def _stored(url: str) -> tuple[int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        exposures = conn.execute("SELECT COUNT(*) FROM assignment_exposure").fetchone()[0]
        events = conn.execute("SELECT COUNT(*) FROM assignment_event").fetchone()[0]
    return exposures, events


def _start_server(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = bench_env(url, DJANGO_SECURE_SSL_REDIRECT="false")
    proc = subprocess.Popen(
        [
            *(PYTHON, "-m", "gunicorn", "config.wsgi:application"),
            *("--workers", str(workers), "--bind", f"{HOST}:{port}", "--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/api/schema/")
            conn.getresponse().read()
            conn.close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--assign-rate", type=float, default=40.0, help="assign calls per second")
    parser.add_argument("--event-rate", type=float, default=5.0, help="event batches per second")
    parser.add_argument("--batch", type=int, default=10, help="events per batch")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=8, help="client threads per endpoint")
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not (0 < args.minutes <= 24 * 60 and args.assign_rate > 0 and args.event_rate > 0):
        parser.error("--minutes must be in (0, 1440] and the rates positive")

    url = recreate_database(DATABASE)
    key = setup_definitions(url)
    proc, port = _start_server(url, args.workers)
    tally = Tally()
    seconds = args.minutes * 60
    print(
        f"soak: {args.minutes:g} min, {args.assign_rate:g} assign/s, {args.event_rate:g} event "
        f"batches/s x {args.batch}, gunicorn {args.workers} workers at {HOST}:{port}",
        flush=True,
    )
    memory: list[tuple[float, float]] = []
    try:
        start = time.perf_counter()
        deadline = start + seconds
        threads = [
            threading.Thread(
                target=_client,
                args=(
                    name,
                    rate / args.clients,
                    deadline,
                    port,
                    key,
                    tally,
                    1000 * i + c,
                    args.batch,
                ),
            )
            for i, (name, rate) in enumerate(
                (("assign", args.assign_rate), ("events", args.event_rate))
            )
            for c in range(args.clients)
        ]
        for t in threads:
            t.start()
        while time.perf_counter() < deadline:
            elapsed = time.perf_counter() - start
            memory.append((elapsed, server_rss_mb(proc.pid)))
            print(f"  t={elapsed:6.0f}s  server RSS {memory[-1][1]:7.1f} MB", flush=True)
            time.sleep(min(args.sample_seconds, max(deadline - time.perf_counter(), 0.01)))
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        memory.append((elapsed, server_rss_mb(proc.pid)))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()

    return _report(tally, memory, elapsed, *_stored(url))


def _report(
    tally: Tally, memory: list[tuple[float, float]], elapsed: float, exposures: int, events: int
) -> int:
    """Print the figures; 0 when errors are 0, memory levels off and nothing was lost."""
    ok = True
    print(f"\n{'endpoint':8} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  codes")
    for endpoint in ("assign", "events"):
        lat = tally.latencies[endpoint]
        codes = dict(sorted(tally.codes[endpoint].items()))
        print(
            f"{endpoint:8} {len(lat):9d} {len(lat) / elapsed:7.1f} "
            f"{percentile(lat, 50) * 1000:7.1f} {percentile(lat, 99) * 1000:7.1f}  {codes}"
        )
        errors = sum(n for code, n in codes.items() if code != 200)
        ok &= errors == 0
        print(f"  errors: {errors}")
    print(
        f"late sends (a client fell behind by more than one interval, the server or this "
        f"machine being slower than the asked rate): {tally.late}"
    )

    thirds = [m for _, m in memory]
    n = len(thirds)
    middle = thirds[n // 3 : 2 * n // 3] or thirds
    last = thirds[2 * n // 3 :] or thirds
    mid_avg, last_avg = sum(middle) / len(middle), sum(last) / len(last)
    growth = (last_avg - mid_avg) / mid_avg if mid_avg else 0.0
    level = growth <= 0.10
    ok &= level
    print(
        f"server RSS MB: start {thirds[0]:.1f}, middle third {mid_avg:.1f}, last third "
        f"{last_avg:.1f}, end {thirds[-1]:.1f}, max {max(thirds):.1f}; growth last vs middle "
        f"{growth:+.1%} ({'levels off' if level else 'GROWING'})"
    )
    print(
        "memory samples (s, MB): "
        + ", ".join(f"{t:.0f}:{m:.0f}" for t, m in memory[:: max(1, len(memory) // 12)])
    )

    acked_exposures = len(tally.exposed)
    lost_exp, lost_ev = acked_exposures - exposures, tally.events_acked - events
    print(f"exposures: acknowledged {acked_exposures}, stored {exposures} (difference {lost_exp})")
    print(f"events:    acknowledged {tally.events_acked}, stored {events} (difference {lost_ev})")
    ok &= lost_exp == 0 and lost_ev == 0
    print("RESULT:", "pass" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
