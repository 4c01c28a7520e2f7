"""Analysis refresh at scale: exposures and events on PostgreSQL -> one result snapshot.

Run:  .venv/bin/python bench/analysis.py [--quick] [--units N] [--events 1000000,3000000,...]

One experiment with 3 variants and 6 metrics (paid conversion, ARPU with CUPED and 99th
percentile winsorization, average order value, D1 and D7 retention, a refund-rate guardrail),
``--units`` exposed units (with platform / country / new-user attributes, so segments are
computed too) and events added up to each size in ``--events`` (purchases with revenue, app
opens, refunds, coupons; before and after exposure). Data is generated inside PostgreSQL with
``generate_series``. After each size, a fresh Python process runs one full refresh
(``analysis.services.snapshots.experiment_refresh``) and reports its wall time and its peak
resident memory (``ru_maxrss``). Goals at 1M units and 10M events: under 60 s and under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, bench_env, recreate_database  # noqa: E402

DATABASE = "verdict_bench_analysis"
KEY = "bench-analysis"
SPAN_SECONDS = 14 * 86_400  # exposures spread over two weeks
START = "2026-01-01T00:00:00+00:00"
AS_OF = "2026-01-17T00:00:00+00:00"  # D7 has matured for units exposed in the first 8 days

METRICS = [
    {"key": "paid_conversion", "type": "conversion", "event": "purchase", "role": "primary"},
    {
        "key": "arpu",
        "type": "mean",
        "event": "purchase",
        "value_field": "revenue",
        "winsorize_percentile": 99.0,
        "role": "secondary",
    },
    {
        "key": "aov",
        "type": "ratio",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": "purchase", "value_field": None},
        "role": "secondary",
    },
    {"key": "d1_retention", "type": "retention", "event": "app_open", "retention_day": 1},
    {"key": "d7_retention", "type": "retention", "event": "app_open", "retention_day": 7},
    {
        "key": "refund_rate",
        "type": "conversion",
        "event": "refund",
        "higher_is_better": False,
        "role": "guardrail",
    },
]


def setup_experiment() -> dict[str, int]:
    """Create the metrics and the running experiment through the ORM; returns ids."""
    from django.utils import timezone

    from core.actors import Actor
    from experiments.models import Experiment, ExperimentMetric, Metric, Variant
    from experiments.services.lifecycle import experiment_transition

    exp = Experiment.objects.create(key=KEY, name="Bench", kind="pricing", cuped=True, mde=0.02)
    for i, key in enumerate(("control", "b", "c")):
        Variant.objects.create(experiment=exp, key=key, name=key, is_control=i == 0, position=i)
    for i, spec in enumerate(METRICS):
        spec = dict(spec)
        role = spec.pop("role", "secondary")
        metric = Metric.objects.create(name=spec["key"], **spec)
        ExperimentMetric.objects.create(experiment=exp, metric=metric, role=role, position=i)
    exp = experiment_transition(actor=Actor.system("bench"), experiment=exp, action="start")
    Experiment.objects.filter(pk=exp.pk).update(started_at=timezone.now())
    ids = list(exp.variants.order_by("position").values_list("id", flat=True))
    return {"experiment": exp.id, "v0": ids[0], "v1": ids[1], "v2": ids[2]}


EXPOSURES_SQL = """
INSERT INTO assignment_exposure (experiment_id, phase, unit_id, bucket_id, variant_id, forced,
    multiple_variants, attributes, first_exposed_at)
SELECT %(experiment)s, 1, 'u' || g, 'u' || g, (ARRAY[%(v0)s, %(v1)s, %(v2)s])[1 + g %% 3],
    g %% 5000 = 0, g %% 2003 = 0,
    jsonb_build_object(
        'platform', (ARRAY['ios', 'android', 'web'])[1 + (g / 7) %% 3],
        'country', (ARRAY['CN', 'SG', 'US', 'DE', 'BR', 'IN', 'JP'])[1 + (g / 11) %% 7],
        'is_new_user', (g / 13) %% 2 = 0),
    %(start)s::timestamptz + (g %% %(span)s) * INTERVAL '1 second'
FROM generate_series(1, %(units)s) AS g
"""

# Each event belongs to a random unit, at a random time from 7 days before to 10 days after
# that unit's exposure (the exposure time is a function of the unit number, as above).
EVENTS_SQL = """
INSERT INTO assignment_event (event_id, unit_id, event, timestamp, client_timestamp,
    received_at, value, properties)
SELECT 'e' || (%(offset)s + i), 'u' || u, name, ts, ts, ts,
    CASE WHEN name = 'purchase'
        THEN round((-ln(1 - random()) * 30 * (1 + (u %% 3) * 0.03))::numeric, 2) END,
    '{}'::jsonb
FROM (
    SELECT i, u,
        CASE WHEN r < 0.25 THEN 'purchase' WHEN r < 0.9 THEN 'app_open'
             WHEN r < 0.95 THEN 'refund' ELSE 'coupon_redeemed' END AS name,
        %(start)s::timestamptz + (u %% %(span)s) * INTERVAL '1 second'
            + (random() * 17 - 7) * INTERVAL '1 day' AS ts
    FROM (
        SELECT i, 1 + floor(random() * %(units)s)::int AS u, random() AS r
        FROM generate_series(1, %(n)s) AS i
    ) raw
) s
"""


def insert_events(conn, *, offset: int, n: int, units: int, chunk: int = 1_000_000) -> None:
    done = 0
    while done < n:
        size = min(chunk, n - done)
        conn.execute(
            EVENTS_SQL,
            {
                "offset": offset + done,
                "n": size,
                "units": units,
                "start": START,
                "span": SPAN_SECONDS,
            },
        )
        done += size


def child(as_of: str) -> None:
    """One refresh in this (fresh) process; prints JSON figures."""
    import resource

    import django

    django.setup()
    import datetime as dt

    from analysis.services.snapshots import experiment_refresh
    from experiments.models import Experiment

    experiment = Experiment.objects.get(key=KEY)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    snapshot = experiment_refresh(experiment=experiment, as_of=dt.datetime.fromisoformat(as_of))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    r = snapshot.results
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak,
                "baseline_mb": before,
                "units": r["units"]["total"],
                "events_counted": r["events"],
                "segments": len(r["segments"]),
                "decision": r["decision"]["recommendation"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k units, up to 1M events")
    parser.add_argument("--units", type=int, default=None)
    parser.add_argument("--events", default=None, help="comma-separated cumulative sizes")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    units = args.units or (100_000 if args.quick else 1_000_000)
    default_sizes = "100000,300000,1000000" if args.quick else "1000000,3000000,10000000"
    sizes = [int(s) for s in (args.events or default_sizes).split(",")]

    import psycopg

    url = recreate_database(DATABASE)
    os.environ.update(bench_env(url))
    import django

    django.setup()
    ids = setup_experiment()
    print(f"PostgreSQL database {DATABASE}: {units:,} exposed units, 3 variants, 6 metrics")
    rows = []
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute(EXPOSURES_SQL, {**ids, "units": units, "start": START, "span": SPAN_SECONDS})
        conn.execute("VACUUM ANALYZE assignment_exposure")
        print(f"  exposures generated in {time.perf_counter() - started:.1f} s")
        have = 0
        for i, size in enumerate(sizes):
            started = time.perf_counter()
            insert_events(conn, offset=have, n=size - have, units=units)
            conn.execute("VACUUM ANALYZE assignment_event")
            have = size
            print(f"  events up to {size:,} generated in {time.perf_counter() - started:.1f} s")
            # A distinct as_of per run, so that no run reuses an earlier snapshot.
            as_of = AS_OF.replace("00:00:00", f"00:00:{i:02d}")
            out = subprocess.run(
                [PYTHON, __file__, "--child", as_of],
                env=bench_env(url),
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            figures["events"] = size
            rows.append(figures)
            print(
                f"  refresh at {size:>11,} events: {figures['seconds']:6.2f} s, "
                f"peak memory {figures['peak_mb']:6.1f} MB"
            )
    print()
    print(
        f"{'events':>12} {'refresh s':>10} {'s per 1M ev':>12} {'peak MB':>8} "
        f"{'base MB':>8} {'units':>10} {'ev counted':>11} {'segments':>9}"
    )
    for f in rows:
        print(
            f"{f['events']:>12,} {f['seconds']:>10.2f} {f['seconds'] / f['events'] * 1e6:>12.2f} "
            f"{f['peak_mb']:>8.1f} {f['baseline_mb']:>8.1f} {f['units']:>10,} "
            f"{f['events_counted']:>11,} {f['segments']:>9}"
        )
    last = rows[-1]
    if not args.quick:
        ok = last["seconds"] < 60 and last["peak_mb"] < 300
        print(
            f"\nGoal at {last['events']:,} events (< 60 s, < 300 MB): {'met' if ok else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
