"""Server time of the significance report: 10 metrics, 3 variants, 20 segment values.

Run:  .venv/bin/python bench/report.py [--units 30000] [--snapshots 8] [--repeat 40]
                                       [--language zh-hans] [--reuse]

Issue 13's goal: the report of an experiment with 10 metrics, 3 variants and 20 segment values
renders in under 300 ms of server time on PostgreSQL, with a query count that does not grow
with the number of metrics.

Uses its own PostgreSQL database (``verdict_bench_report``, recreated), production settings and
Django's test client in this process (no network, so the time is the server's: URL routing,
middleware, the view, its queries and the templates). The experiment's exposures and events are
generated and written to the tables, then analysed by the real refresh
(``analysis.services.snapshots.experiment_refresh``) several times, so the report reads real
snapshots (and their history for the picker and the metric detail). Printed per page: the
median and p90 render time over ``--repeat`` renders, the number of database queries, and
whether the report meets the 300 ms goal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_env, pg_url, recreate_database  # noqa: E402

DATABASE = "verdict_bench_report"
GOAL_MS = 300.0
VARIANTS = ("control", "annual", "monthly")
COUNTRIES = tuple(f"c{i:02d}" for i in range(20))  # 20 segment values of one attribute
EVENTS = ("purchase", "view", "signup", "refund", "share")


def _metrics() -> list[tuple[dict, str]]:
    """Ten metrics: one primary, seven secondary, two guardrails (conversion and mean)."""
    specs: list[tuple[dict, str]] = [
        (
            {"key": "paid", "name": "Paid conversion", "type": "conversion", "event": "purchase"},
            "primary",
        ),
    ]
    secondary = [
        ("revenue", "Revenue per user", "mean", "purchase", ""),
        ("viewed", "Viewed pricing", "conversion", "view", ""),
        ("views", "Pricing views per user", "mean", "view", "count"),
        ("signed", "Signed up", "conversion", "signup", ""),
        ("shared", "Shared", "conversion", "share", ""),
        ("items", "Items per user", "mean", "purchase", "items"),
        ("basket", "Basket value", "mean", "purchase", "basket"),
    ]
    for key, name, kind, event, field in secondary:
        specs.append(
            (
                {"key": key, "name": name, "type": kind, "event": event, "value_field": field},
                "secondary",
            )
        )
    specs.append(
        (
            {
                "key": "refunds",
                "name": "Refund rate",
                "type": "conversion",
                "event": "refund",
                "higher_is_better": False,
            },
            "guardrail",
        )
    )
    specs.append(
        (
            {
                "key": "refund_value",
                "name": "Refund value",
                "type": "mean",
                "event": "refund",
                "higher_is_better": False,
            },
            "guardrail",
        )
    )
    return specs


def _populate(units: int, snapshots: int) -> str:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from analysis.services.snapshots import experiment_refresh
    from assignment.models import Event, Exposure
    from core.actors import Actor
    from experiments.models import Experiment, ExperimentMetric, Metric, Variant
    from experiments.services.lifecycle import experiment_transition

    rng = random.Random(13)
    owner = get_user_model().objects.create_user("bench-analyst", password="x", is_staff=True)
    exp = Experiment.objects.create(
        key="pro-price",
        name="Pro tier price",
        kind="pricing",
        owner=owner,
        mde=0.05,
        planned_sample_size=60000,
    )
    variants = {
        key: Variant.objects.create(
            experiment=exp,
            key=key,
            name=key.title(),
            is_control=i == 0,
            position=i,
            payload={"price": 29 + 10 * i},
        )
        for i, key in enumerate(VARIANTS)
    }
    for i, (fields, role) in enumerate(_metrics()):
        metric = Metric.objects.create(**fields)
        ExperimentMetric.objects.create(experiment=exp, metric=metric, role=role, position=i)
    exp = experiment_transition(actor=Actor.system("bench"), experiment=exp, action="start")
    start = timezone.now() - dt.timedelta(days=6)
    exposures, events = [], []
    lift = {"control": 0.0, "annual": 0.02, "monthly": -0.01}
    for i in range(units):
        unit = f"user-{i}"
        variant = VARIANTS[i % 3]
        at = start + dt.timedelta(seconds=rng.randrange(5 * 86400))
        exposures.append(
            Exposure(
                experiment=exp,
                phase=exp.phase,
                unit_id=unit,
                bucket_id=unit,
                variant=variants[variant],
                first_exposed_at=at,
                attributes={"country": COUNTRIES[rng.randrange(20)]},
            )
        )
        for event, base in zip(EVENTS, (0.10, 0.6, 0.3, 0.02, 0.05), strict=True):
            if rng.random() < base + lift[variant]:
                when = at + dt.timedelta(minutes=rng.randrange(1, 600))
                events.append(
                    Event(
                        event_id=f"{unit}-{event}",
                        unit_id=unit,
                        event=event,
                        timestamp=when,
                        client_timestamp=when,
                        received_at=when,
                        value=round(rng.lognormvariate(3, 0.5), 2),
                        properties={
                            "items": rng.randrange(1, 5),
                            "count": 1,
                            "basket": round(rng.uniform(10, 90), 2),
                        },
                    )
                )
    Exposure.objects.bulk_create(exposures, batch_size=2000)
    Event.objects.bulk_create(events, batch_size=2000)
    now = timezone.now()
    for k in range(snapshots):
        experiment_refresh(experiment=exp, as_of=now - dt.timedelta(hours=6 * (snapshots - 1 - k)))
    print(f"{units} units, {len(events)} events, {snapshots} snapshots by the real refresh")
    return exp.key


def _measure(client, url: str, repeat: int, headers: dict) -> tuple[float, float, float, int]:
    """Median and p90 wall time, median CPU time of this process (the server's Python work,
    without the database's), and the number of queries of one render."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, **headers)  # warm up templates and caches
    times, cpu = [], []
    queries = 0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, **headers)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    return statistics.median(times), p90, statistics.median(cpu), queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=30000)
    parser.add_argument("--snapshots", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--language", default="en", help="en or zh-hans")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database of the last run again"
    )
    args = parser.parse_args()
    url = pg_url(DATABASE) if args.reuse else recreate_database(DATABASE)
    os.environ.update(bench_env(url, DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    key = "pro-price" if args.reuse else _populate(args.units, args.snapshots)
    from analysis.models import ResultSnapshot

    latest = ResultSnapshot.objects.filter(experiment__key=key, status="ok").latest("computed_at")
    results = latest.results
    segments = {(s["attribute"], s["value"]) for s in results["segments"]}
    print(
        f"{len(results['metrics'])} metrics, {len(results['units']['by_variant'])} variants, "
        f"{len(segments)} segment values ({sorted({a for a, _ in segments})})"
    )
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = args.language
    client.force_login(get_user_model().objects.get(username="bench-analyst"))
    htmx = {"HTTP_HX_REQUEST": "true"}
    base = f"/experiments/{key}/results/"
    pages = (
        ("report, full page", base, {}),
        ("report, HTMX tab panel", base, htmx | {"HTTP_HX_TARGET": "tab-panel"}),
        ("report, HTMX report body", base, htmx | {"HTTP_HX_TARGET": "report-body"}),
        (
            "report, HTMX segment tab (country)",
            f"{base}?segment=country",
            htmx | {"HTTP_HX_TARGET": "segments"},
        ),
        ("report, permalink", f"{base}{latest.pk}/", {}),
        ("report, printable view", f"{base}{latest.pk}/print/", {}),
        ("metric detail (HTMX)", f"{base}metrics/paid/", htmx),
    )
    print(
        f"{args.repeat} renders each (PostgreSQL, production settings, in process, "
        f"language {args.language})"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    print(f"{'page':<38} {'p50 ms':>8} {'p90 ms':>8} {'cpu ms':>8} {'queries':>8}")
    full = None
    for label, path, headers in pages:
        p50, p90, cpu, queries = _measure(client, path, args.repeat, headers)
        full = full or (p50, p90)
        print(f"{label:<38} {p50:>8.1f} {p90:>8.1f} {cpu:>8.1f} {queries:>8}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    verdict = "met" if full[1] < GOAL_MS else "MISSED"
    print(
        f"goal: full report under {GOAL_MS:.0f} ms: {verdict} (p50 {full[0]:.1f} ms, "
        f"p90 {full[1]:.1f} ms)"
    )


if __name__ == "__main__":
    main()
