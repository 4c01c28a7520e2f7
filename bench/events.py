"""Event ingestion throughput: POST /api/v1/events against gunicorn + PostgreSQL, next to COPY.

Run:  .venv/bin/python bench/events.py [--events 100000] [--rounds 5] [--quick] [--compare-inserts]

After one untimed warm-up pass, each round, on a freshly truncated event table:

1. API: client processes POST every batch (500 events, with ``sent_at``) over loopback
   keep-alive connections to gunicorn sync workers; accepted events per second of wall time,
   and request latency percentiles;
2. replay: every batch is sent again; the number of new rows this stores must be 0;
3. COPY: the table is truncated and the same rows are written with one raw PostgreSQL
   ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``): the floor the database sets.

Printed: medians over rounds of the API and COPY rates and of their per-round ratio, latencies,
and the replay result. Goals: at least 15,000 events/s and at least 25% of the COPY rate.

``--compare-inserts`` then times, in this process and without HTTP, the ways of writing the
same validated batches that were considered for ``assignment.services.events``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_env, gunicorn, median, percentile, recreate_database  # noqa: E402

DATABASE = "verdict_bench_events"
EVENT_NAMES = ("purchase", "signup", "activation", "app_open", "coupon_redeemed")
COLUMNS = "event_id, unit_id, event, timestamp, client_timestamp, received_at, value, properties"

_BODIES: list[bytes] = []
_TARGET: tuple[str, int, str] = ("", 0, "")


def make_batches(events: int, batch_size: int, seed: int = 1) -> list[list[dict]]:
    rng = Random(seed)
    now = datetime.now(UTC)
    batches = []
    for start in range(0, events, batch_size):
        batch = []
        for _ in range(min(batch_size, events - start)):
            name = rng.choice(EVENT_NAMES)
            event = {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "unit_id": f"user-{rng.randrange(200_000)}",
                "event": name,
                "timestamp": (now - timedelta(seconds=rng.randrange(86_400))).isoformat(),
            }
            if name == "purchase":
                event["value"] = round(rng.lognormvariate(3, 1), 2)
                event["properties"] = {
                    "currency": "EUR",
                    "order_id": f"A-{rng.randrange(10**9)}",
                    "coupon": rng.choice([None, "NEW10"]),
                }
            batch.append(event)
        batches.append(batch)
    return batches


def _send(indices: list[int]) -> tuple[int, int, list[float]]:
    """POST the given batches on one keep-alive connection: (accepted, duplicates, latencies)."""
    host, port, key = _TARGET
    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    accepted = duplicates = 0
    latencies = []
    for index in indices:
        started = time.perf_counter()
        conn.request("POST", "/api/v1/events", body=_BODIES[index], headers=headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        result = json.loads(payload)
        if result["rejected"]:
            raise RuntimeError(f"rejected items: {result['rejected'][:3]}")
        accepted += result["accepted"]
        duplicates += result["duplicates"]
    conn.close()
    return accepted, duplicates, latencies


def send_all(pool: multiprocessing.pool.Pool, clients: int) -> tuple[int, int, float, list[float]]:
    slices = [list(range(i, len(_BODIES), clients)) for i in range(clients)]
    started = time.perf_counter()
    results = pool.map(_send, slices)
    elapsed = time.perf_counter() - started
    latencies = [latency for _, _, part in results for latency in part]
    return sum(r[0] for r in results), sum(r[1] for r in results), elapsed, latencies


def copy_rows(url: str, batches: list[list[dict]]) -> tuple[int, float]:
    """Truncate, then COPY every row in one statement: (rows, seconds)."""
    import psycopg

    received = datetime.now(UTC)
    rows = []
    for batch in batches:
        for e in batch:
            moment = datetime.fromisoformat(e["timestamp"])
            rows.append(
                (
                    e["event_id"],
                    e["unit_id"],
                    e["event"],
                    moment,
                    moment,
                    received,
                    e.get("value"),
                    json.dumps(e.get("properties") or {}),
                )
            )
    table_rows(url, truncate=True)
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY assignment_event ({COLUMNS}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
    return len(rows), elapsed


def table_rows(url: str, truncate: bool = False) -> int:
    """Row count of the event table; with ``truncate``, empty it and checkpoint first."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if truncate:
            conn.execute("TRUNCATE assignment_event")
            conn.execute("CHECKPOINT")
        return conn.execute("SELECT count(*) FROM assignment_event").fetchone()[0]


def create_app_key(url: str) -> str:
    os.environ.update(bench_env(url))
    import django

    django.setup()
    from django.db import connections

    from core.api_keys import api_key_create

    _, raw = api_key_create(name="bench-events", role="app")
    connections.close_all()
    return raw


def compare_inserts(url: str, batches: list[list[dict]]) -> None:
    """Time ways of writing validated 500-row batches (insert, then replay) on one connection."""
    from django.db import connection, transaction

    from assignment.services import events as service
    from assignment.services.event_validation import TimeWindow, event_validate

    received = datetime.now(UTC)
    window = TimeWindow.for_batch(received_at=received, sent_at=None)
    prepared = [
        sorted((event_validate(item, window) for item in batch), key=lambda r: r.event_id)
        for batch in batches
    ]
    columns = service._column_list()
    returning = 'ON CONFLICT ("event_id") DO NOTHING RETURNING 1'

    def executemany(cursor, rows, received_at):  # noqa: ANN001, ANN202
        raw = cursor.cursor
        raw.executemany(
            f"INSERT INTO assignment_event ({columns}) VALUES "
            f"(%s, %s, %s, %s, %s, %s, %s::jsonb, %s) {returning}",
            [(*row, received_at) for row in rows],
            returning=True,
        )
        count = len(raw.fetchall())
        while raw.nextset():
            count += len(raw.fetchall())
        return count

    def unnest(cursor, rows, received_at):  # noqa: ANN001, ANN202
        cursor.execute(
            f"INSERT INTO assignment_event ({columns}) SELECT e, u, n, t, c, v, p::jsonb, %s "
            "FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::timestamptz[], "
            "%s::timestamptz[], %s::float8[], %s::text[]) AS x(e, u, n, t, c, v, p) "
            f"{returning}",
            [received_at, *(list(column) for column in zip(*rows, strict=True))],
        )
        return len(cursor.fetchall())

    def copy_temp(cursor, rows, received_at):  # noqa: ANN001, ANN202
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS event_in (event_id varchar, unit_id varchar, "
            "event varchar, timestamp timestamptz, client_timestamp timestamptz, value float8, "
            "properties jsonb) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy("COPY event_in FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO assignment_event ({columns}) SELECT *, %s FROM event_in {returning}",
            [received_at],
        )
        return len(cursor.fetchall())

    strategies = {
        "executemany (pipeline)": executemany,
        "multi-row VALUES": service._insert_values,
        "unnest typed arrays": unnest,
        "COPY to temp + INSERT SELECT": copy_temp,
        "jsonb_array_elements (used)": service._insert_postgresql,
    }
    print(f"\nInsert strategies, {len(prepared)} batches of {len(prepared[0])} rows, one session:")
    for label, insert in strategies.items():
        table_rows(url, truncate=True)
        timings = []
        for _phase in ("insert", "replay"):
            started = time.perf_counter()
            new = 0
            for rows in prepared:
                with transaction.atomic(), connection.cursor() as cursor:
                    new += insert(cursor, rows, received)
            timings.append((time.perf_counter() - started) / len(prepared) * 1000)
            expected = sum(len(rows) for rows in prepared) if _phase == "insert" else 0
            if new != expected:
                raise RuntimeError(f"{label}: {new} new rows in {_phase}, expected {expected}")
        rate = len(prepared[0]) / timings[0] * 1000
        print(
            f"  {label:30s} {timings[0]:6.2f} ms/batch ({rate:,.0f} rows/s), "
            f"replay {timings[1]:6.2f} ms/batch"
        )
    connection.close()


def main() -> None:
    global _BODIES, _TARGET
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--quick", action="store_true", help="20,000 events, one round")
    parser.add_argument(
        "--compare-inserts",
        action="store_true",
        help="also time insert strategies in-process (no HTTP) on the same batches",
    )
    args = parser.parse_args()
    if args.quick:
        args.events, args.rounds = 20_000, 1

    url = recreate_database(DATABASE)
    key = create_app_key(url)
    batches = make_batches(args.events, args.batch)
    sent_at = datetime.now(UTC).isoformat()
    _BODIES = [json.dumps({"events": b, "sent_at": sent_at}).encode() for b in batches]
    print(
        f"{args.events} events in {len(batches)} batches of {args.batch}; gunicorn "
        f"{args.workers} sync workers; {args.clients} client processes; {os.cpu_count()} CPUs"
    )

    api_rates, copy_rates, ratios, replay_new, p50s, p95s = [], [], [], [], [], []
    with gunicorn(url, workers=args.workers) as base:
        split = urlsplit(base)
        _TARGET = (split.hostname, split.port, key)
        context = multiprocessing.get_context("fork")
        with context.Pool(args.clients) as pool:
            send_all(pool, args.clients)  # warm-up: workers import, connect, cache the key
            for round_no in range(1, args.rounds + 1):
                table_rows(url, truncate=True)
                accepted, duplicates, elapsed, latencies = send_all(pool, args.clients)
                stored = table_rows(url)
                if accepted != args.events or stored != args.events or duplicates:
                    raise RuntimeError(f"accepted {accepted}, stored {stored}, dup {duplicates}")
                replay_accepted, replay_dups, _, _ = send_all(pool, args.clients)
                new_rows = table_rows(url) - stored
                copied, copy_seconds = copy_rows(url, batches)
                api_rates.append(accepted / elapsed)
                copy_rates.append(copied / copy_seconds)
                ratios.append(api_rates[-1] / copy_rates[-1])
                replay_new.append(new_rows)
                p50s.append(percentile(latencies, 50) * 1000)
                p95s.append(percentile(latencies, 95) * 1000)
                print(
                    f"round {round_no}: API {api_rates[-1]:,.0f} events/s "
                    f"(p50 {p50s[-1]:.1f} ms, p95 {p95s[-1]:.1f} ms per batch); "
                    f"COPY {copy_rates[-1]:,.0f} rows/s; replay: {replay_accepted} accepted, "
                    f"{replay_dups} duplicates, {new_rows} new rows"
                )

    api, copy = median(api_rates), median(copy_rates)
    print()
    print(f"API ingestion (median):  {api:,.0f} events/s   goal >= 15,000")
    print(f"raw COPY (median):       {copy:,.0f} rows/s")
    print(f"API / COPY (median of per-round ratios): {median(ratios):.1%}   goal >= 25%")
    print(f"batch latency p50 / p95: {median(p50s):.1f} / {median(p95s):.1f} ms")
    print(f"replay of every batch:   {sum(replay_new)} new rows stored   goal 0")
    if args.compare_inserts:
        compare_inserts(url, batches[:40])


if __name__ == "__main__":
    main()
