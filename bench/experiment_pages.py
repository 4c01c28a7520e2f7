"""Render time of the experiments list and the experiment page with 1,000 experiments.

Run:  .venv/bin/python bench/experiment_pages.py [--experiments 1000] [--repeat 30]

Uses its own PostgreSQL database (``verdict_bench_pages``, recreated), production settings and
Django's test client in this process (no network): 1,000 experiments, a third of them running
with a result snapshot each (results of the typed contract, 3 variants, 5 metrics). Printed
per page: p50 and p95 render time and the number of database queries, which stays the same
whatever the number of experiments (the list shows 50 per page).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_env, recreate_database  # noqa: E402

DATABASE = "verdict_bench_pages"


def _results(i: int) -> dict:
    """Stored results of the typed contract (``Results.to_dict()``): 3 variants, 5 metrics."""
    from analysis.engine.contract import (
        RESULTS_SCHEMA_VERSION,
        Coded,
        Decision,
        Excluded,
        Freshness,
        HealthCheck,
        MetricResult,
        Plan,
        PowerResult,
        Results,
        SrmResult,
        UnitsResult,
        VariantResult,
    )

    keys = ("control", "a", "b")
    split = {k: 1000 + i for k in keys}
    variants = tuple(
        VariantResult(
            variant=k,
            name=k,
            is_control=k == "control",
            units=1000 + i,
            mean=0.1,
            **(
                {}
                if k == "control"
                else {
                    "effect": 0.01 * (i % 7),
                    "ci": (0.0, 0.02),
                    "p_value": 0.01 if i % 3 == 0 else 0.5,
                    "significant": i % 3 == 0,
                    "outcome": "better" if i % 3 == 0 else "not_significant",
                    "status": "ok",
                }
            ),
        )
        for k in keys
    )
    metrics = tuple(
        MetricResult(
            metric=f"m{j}",
            name=f"Metric {j}",
            type="conversion",
            role="primary" if j == 0 else "secondary",
            higher_is_better=True,
            corrected=False,
            cuped=False,
            winsorized_at=None,
            variants=variants,
        )
        for j in range(5)
    )
    health = (
        (
            HealthCheck(
                check="srm",
                severity="error",
                condition="srm",
                coded=Coded(
                    "srm_error",
                    {"p": 1e-6, "observed": split, "expected": split, "segment": None},
                ),
            ),
        )
        if i % 10 == 0
        else ()
    )
    return Results(
        schema_version=RESULTS_SCHEMA_VERSION,
        experiment=f"exp-{i}",
        phase=1,
        status="ok",
        computed_at="2026-01-01T00:00:00+00:00",
        as_of="2026-01-01T00:00:00+00:00",
        engine_version="bench",
        plan=Plan(
            alpha=0.05,
            method="frequentist",
            correction=None,
            cuped=False,
            mde=None,
            planned_sample_size=None,
            planned_duration_days=None,
        ),
        units=UnitsResult(total=3000 + i, by_variant=split, excluded=Excluded(0, 0, 0)),
        events=0,
        freshness=Freshness(last_exposure_at=None, last_event_at=None),
        srm=SrmResult(p_value=1.0, mismatch=False, statistic=0.0, observed=split, expected={}),
        power=PowerResult(
            metric="m0",
            planned_mde=None,
            power=0.8,
            units_per_arm=1000 + i,
            required_units_per_arm=None,
            current_mde=None,
            planned_sample_reached=None,
        ),
        metrics=metrics,
        segments=(),
        decision=Decision(recommendation="keep_running", variant=None),
        health=health,
    ).to_dict()


def _populate(n: int) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from analysis.models import ResultSnapshot
    from experiments.models import Experiment, ExperimentMetric, Metric, Variant

    owner = get_user_model().objects.create_user("bench-pm", password="x", is_staff=True)
    metric = Metric.objects.create(
        key="conversion", name="Conversion", type="conversion", event="purchase"
    )
    now = timezone.now()
    experiments = Experiment.objects.bulk_create(
        Experiment(
            key=f"exp-{i}",
            name=f"Experiment {i}",
            owner=owner,
            kind="pricing",
            status="running" if i % 3 == 0 else "draft",
            started_at=now if i % 3 == 0 else None,
        )
        for i in range(n)
    )
    Variant.objects.bulk_create(
        Variant(experiment=e, key=k, name=k, is_control=(k == "control"), position=p)
        for e in experiments
        for p, k in enumerate(("control", "a", "b"))
    )
    ExperimentMetric.objects.bulk_create(
        ExperimentMetric(experiment=e, metric=metric, role="primary") for e in experiments
    )
    ResultSnapshot.objects.bulk_create(
        ResultSnapshot(
            experiment=e, phase=1, status="ok", as_of=now, computed_at=now, results=_results(i)
        )
        for i, e in enumerate(experiments)
        if e.status == "running"
    )


def _measure(client, url: str, repeat: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up templates and caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    url = recreate_database(DATABASE)
    os.environ.update(bench_env(url, DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1"))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    _populate(args.experiments)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-pm"))
    print(f"{args.experiments} experiments, {args.repeat} renders each (PostgreSQL, in process)")
    print(f"{'page':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for label, path in (
        ("list, first page", "/experiments/"),
        ("list, running, page 3", "/experiments/?status=running&page=3"),
        ("list, search", "/experiments/?q=Experiment+99"),
        ("list, HTMX table partial", "/experiments/?kind=pricing"),
        ("experiment page (overview)", "/experiments/exp-3/"),
        ("experiment page (audit log)", "/experiments/exp-3/audit/"),
    ):
        if "HTMX" in label:
            client.defaults["HTTP_HX_REQUEST"] = "true"
        p50, p95, queries = _measure(client, path, args.repeat)
        client.defaults.pop("HTTP_HX_REQUEST", None)
        print(f"{label:<44} {p50:>8.1f} {p95:>8.1f} {queries:>8}")


if __name__ == "__main__":
    main()
