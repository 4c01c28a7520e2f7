"""Soak: assign and events at a steady rate against gunicorn on PostgreSQL, over loopback.

Run:  .venv/bin/python bench/soak.py [--minutes 10] [--assign-rate 40] [--event-rate 5]
          [--batch 10] [--workers 2] [--sample-seconds 10] [--unique-units]

The server is started here (gunicorn, production settings, a fresh PostgreSQL database named
``verdict_soak``, 10 running experiments and an app key) on 127.0.0.1 only, and stopped when
the run ends; the run stops by itself after ``--minutes``. Requests are sent open-loop at a fixed
rate (``--assign-rate`` assign calls and ``--event-rate`` event batches of ``--batch`` events
per second), from a bounded pool of client threads; units are drawn from a pool of 20,000 so
that new and already-exposed units mix, as on a live site. With ``--unique-units`` every assign
call names a unit never seen before, so each worker's in-process caches (the exposures it wrote,
the answers to bodies) fill to their bounds in bytes (``core.caches``).

Printed: requests and throughput per endpoint, p50/p99 latency, errors by status code (must
be 0), the resident memory of each server process (gunicorn master and workers) every
``--sample-seconds`` and a table of it per minute (must level off: the last third of the run may
not grow more than 10% over the middle third), and the stored counts against the acknowledged
ones (exposures: distinct units answered in an experiment; events: the ``accepted`` counts),
which must be equal. Each worker reports its caches' sizes (``bench/soak_gunicorn.py``); with
``--unique-units``, once every worker's exposure cache is full, each worker's memory may not rise
more than 5% above what it was then. Exits 1 when any of these fails.
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
import tempfile
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
# After the caches fill, each worker's memory may rise at most this much (--unique-units).
FLAT_AFTER_FILL = 0.05
# A cache bounded in bytes counts as full within this share of its bound (one entry's room).
FULL = 0.99


class Tally:
    """What the clients saw, per endpoint (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = collections.defaultdict(list)
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.exposed: set[tuple[str, str]] = set()
        self.exposed_unique = 0  # --unique-units: every answer in an experiment is a new pair
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


def server_rss_mb(master: int) -> dict[int, float]:
    """Resident memory of the gunicorn master and of each worker, in MB, by pid."""
    return {pid: _rss_kb(pid) / 1024 for pid in [master, *_children(master)]}


def worker_caches(directory: str) -> dict[int, dict[str, dict]]:
    """Each worker's last report of its caches (bench/soak_gunicorn.py): by pid, by cache."""
    reports: dict[int, dict[str, dict]] = {}
    for path in Path(directory).glob("*.json"):
        try:
            reports[int(path.stem)] = {c["name"]: c for c in json.loads(path.read_text())}
        except (OSError, ValueError):
            continue  # being replaced: read next time
    return reports


def _assign(
    conn: http.client.HTTPConnection, key: str, tally: Tally, rng: random.Random, unique: bool
) -> None:
    unit = f"n-{rng.getrandbits(128):032x}" if unique else f"u-{rng.randrange(UNITS)}"
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
            if unique:
                tally.exposed_unique += sum(1 for a in answers if a["in_experiment"])
            else:
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
    unique: bool,
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
                _assign(conn, key, tally, rng, unique)
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


def _start_server(url: str, workers: int, cache_dir: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = bench_env(url, DJANGO_SECURE_SSL_REDIRECT="false", VERDICT_SOAK_CACHE_DIR=cache_dir)
    proc = subprocess.Popen(
        [
            *(PYTHON, "-m", "gunicorn", "-c", "python:bench.soak_gunicorn"),
            "config.wsgi:application",
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
    parser.add_argument(
        "--unique-units", action="store_true", help="every assign call names a new unit"
    )
    args = parser.parse_args()
    if not (0 < args.minutes <= 24 * 60 and args.assign_rate > 0 and args.event_rate > 0):
        parser.error("--minutes must be in (0, 1440] and the rates positive")

    url = recreate_database(DATABASE)
    key = setup_definitions(url)
    cache_dir = tempfile.mkdtemp(prefix="verdict-soak-caches-")
    proc, port = _start_server(url, args.workers, cache_dir)
    tally = Tally()
    seconds = args.minutes * 60
    units = "a new unit per assign call" if args.unique_units else f"units from {UNITS:,}"
    print(
        f"soak: {args.minutes:g} min, {args.assign_rate:g} assign/s ({units}), "
        f"{args.event_rate:g} event batches/s x {args.batch}, gunicorn {args.workers} workers "
        f"at {HOST}:{port}",
        flush=True,
    )
    memory: list[Sample] = []
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
                    args.unique_units,
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
            memory.append(_sample(elapsed, proc.pid, cache_dir))
            print(f"  {memory[-1].line(proc.pid)}", flush=True)
            time.sleep(min(args.sample_seconds, max(deadline - time.perf_counter(), 0.01)))
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        memory.append(_sample(elapsed, proc.pid, cache_dir))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()

    return _report(tally, memory, elapsed, proc.pid, args.unique_units, *_stored(url))


class Sample:
    """The server's memory at one moment: RSS by pid, and each worker's cache report."""

    def __init__(self, t: float, rss: dict[int, float], caches: dict[int, dict[str, dict]]):
        self.t = t
        self.rss = rss
        self.caches = caches

    @property
    def total(self) -> float:
        return sum(self.rss.values())

    def filled(self, pid: int, name: str) -> float | None:
        """How full a worker's cache is (size over bound), or None when not reported."""
        info = self.caches.get(pid, {}).get(name)
        if not info or not info["bound_bytes"]:
            return None
        return (info["size_bytes"] or 0) / info["bound_bytes"]

    def workers(self, master: int) -> list[int]:
        return sorted(pid for pid in self.rss if pid != master)

    def line(self, master: int) -> str:
        parts = [f"t={self.t:6.0f}s  total {self.total:7.1f} MB  master {self.rss[master]:.1f}"]
        for pid in self.workers(master):
            exposures = self.filled(pid, "exposures")
            answers = self.filled(pid, "assign answers")
            fill = (
                f" (exposures {exposures:.0%}, answers {answers:.0%})"
                if exposures is not None and answers is not None
                else ""
            )
            parts.append(f"worker {pid} {self.rss[pid]:.1f}{fill}")
        return "  ".join(parts)


def _sample(t: float, master: int, cache_dir: str) -> Sample:
    return Sample(t, server_rss_mb(master), worker_caches(cache_dir))


def _per_minute(memory: list[Sample], master: int) -> None:
    """The samples nearest each whole minute, one row each."""
    workers = memory[-1].workers(master)
    print(
        "\nRSS per minute (MB): "
        + " | ".join(["min", "master", *(f"worker {pid} (exposure cache)" for pid in workers)])
    )
    minute = 0
    for sample in memory:
        if sample.t + 1e-6 < minute * 60 and sample is not memory[-1]:
            continue
        cells = [f"{sample.t / 60:4.1f}", f"{sample.rss.get(master, 0):.1f}"]
        for pid in workers:
            filled = sample.filled(pid, "exposures")
            share = f" ({filled:.0%})" if filled is not None else ""
            cells.append(f"{sample.rss.get(pid, 0):.1f}{share}")
        print("  " + " | ".join(cells))
        minute = int(sample.t // 60) + 1


def _flat_after_fill(memory: list[Sample], master: int) -> bool:
    """Whether each worker's RSS stayed within FLAT_AFTER_FILL of its value when every worker's
    exposure cache was full; prints the figures."""
    workers = memory[-1].workers(master)
    fill = next(
        (
            i
            for i, sample in enumerate(memory)
            if workers and all((sample.filled(pid, "exposures") or 0) >= FULL for pid in workers)
        ),
        None,
    )
    if fill is None:
        print("caches: the exposure caches were not full by the end (run longer or faster): FAIL")
        return False
    after = memory[fill:]
    at = memory[fill]
    print(f"caches: every worker's exposure cache full at t={at.t:.0f}s ({at.t / 60:.1f} min)")
    ok = True
    for pid in workers + [master]:
        # A worker's start: its first sample after it served requests (its caches reported).
        first = next((s for s in memory if pid == master or pid in s.caches), memory[0])
        start, end = first.rss.get(pid, 0.0), after[-1].rss.get(pid, 0.0)
        base = at.rss.get(pid, 0.0)
        peak = max(s.rss.get(pid, 0.0) for s in after)
        growth = (peak - base) / base if base else 0.0
        flat = growth <= FLAT_AFTER_FILL
        ok &= flat
        role = "master" if pid == master else f"worker {pid}"
        print(
            f"  {role}: start {start:.1f} MB, caches full {base:.1f} MB, end {end:.1f} MB, "
            f"max after {peak:.1f} MB: {(end - base) / base if base else 0:+.1%} at the end, "
            f"{growth:+.1%} at most ({'flat' if flat else 'GROWING'}, bound "
            f"{FLAT_AFTER_FILL:.0%})"
        )
    return ok


def _report(
    tally: Tally,
    memory: list[Sample],
    elapsed: float,
    master: int,
    unique: bool,
    exposures: int,
    events: int,
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

    thirds = [sample.total for sample in memory]
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
    _per_minute(memory, master)
    if unique:
        ok &= _flat_after_fill(memory, master)

    acked_exposures = tally.exposed_unique if unique else len(tally.exposed)
    lost_exp, lost_ev = acked_exposures - exposures, tally.events_acked - events
    print(f"exposures: acknowledged {acked_exposures}, stored {exposures} (difference {lost_exp})")
    print(f"events:    acknowledged {tally.events_acked}, stored {events} (difference {lost_ev})")
    ok &= lost_exp == 0 and lost_ev == 0
    print("RESULT:", "pass" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
