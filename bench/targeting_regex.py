"""Cost of a catastrophic targeting ``$regex`` (issue #21): the evaluator, and the assign API.

Run:  .venv/bin/python bench/targeting_regex.py [--requests 400] [--skip-server]

1. In process: ``{"country": {"$regex": "(a+)+$"}}`` against ``"a" * n + "!"``, timed through
   a backtracking matcher (Python's ``re``, as GrowthBook's Python SDK and Verdict before issue
   #21 ran it; only small ``n``, it doubles with every character) and through
   ``eval_condition`` (RE2, linear). Then what the save-time check costs for a few patterns.
2. Over HTTP: gunicorn (2 sync workers) on PostgreSQL serving one running experiment whose
   targeting was set to that pattern directly in the database (as if stored before the rule);
   ``POST /api/v1/assign`` with ``country`` = ``"a" * 40 + "!"`` from one connection.
   Printed: status and reason, p50 / p99 / max latency.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_env, gunicorn, percentile, recreate_database  # noqa: E402

DATABASE = "verdict_bench_regex"
PATTERN = "(a+)+$"
CONDITION = {"country": {"$regex": PATTERN}}


def _best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process() -> None:
    from experiments.targeting import eval_condition
    from experiments.targeting.jsregex import _check, _compile, check_js_regex

    backtracking = re.compile(PATTERN)
    print(f"pattern {PATTERN!r} against 'a' * n + '!'")
    print(f"{'n':>6}  {'backtracking re':>16}  {'Verdict (RE2)':>14}")
    for n in (16, 18, 20, 22, 40, 1024, 4095):
        text = "a" * n + "!"
        slow = ""
        if n <= 22:
            slow = f"{_best_of(lambda t=text: backtracking.search(t), 3) * 1000:13.1f} ms"
        fast = _best_of(lambda t=text: eval_condition({"country": t}, CONDITION), 200)
        print(f"{n:>6}  {slow:>16}  {fast * 1e6:11.1f} us")
    print("\nsave-time check (static analysis + RE2 compile), uncached:")
    for pattern in ("^(SG|MY|CN)$", "^user_[0-9]+@example\\.com$", "(a+)+$", "(.*a){20}"):
        _check.cache_clear()

        def check(p: str = pattern) -> None:
            _check.cache_clear()
            _compile.cache_clear()
            with contextlib.suppress(ValueError):
                check_js_regex(p)

        print(f"  {pattern!r:34} {_best_of(check, 50) * 1000:6.2f} ms")
    long = "^(?:[a-z0-9._-]+@(?:example|test)\\.(?:com|org|net),)*[a-z0-9._-]+@example\\.com$"
    cost = _best_of(
        lambda: (_check.cache_clear(), _compile.cache_clear(), check_js_regex(long)), 20
    )
    print(f"  {long[:30] + '...':34} {cost * 1000:6.2f} ms ({len(long)} characters)")


def setup(url: str) -> str:
    os.environ.update(bench_env(url))
    import django

    django.setup()
    from django.db import connections

    from core.actors import Actor
    from core.api_keys import api_key_create
    from experiments.models import Experiment, ExperimentMetric, Metric, Variant
    from experiments.services.lifecycle import experiment_transition

    metric = Metric.objects.create(key="paid", name="Paid", type="conversion", event="purchase")
    exp = Experiment.objects.create(key="evil", name="evil", kind="pricing", targeting={})
    for position, key in enumerate(("control", "treatment")):
        Variant.objects.create(
            experiment=exp, key=key, name=key, is_control=position == 0, position=position
        )
    ExperimentMetric.objects.create(experiment=exp, metric=metric, role="primary")
    experiment_transition(actor=Actor.system("bench"), experiment=exp, action="start")
    Experiment.objects.filter(pk=exp.pk).update(targeting=CONDITION)  # bypasses validation
    _, raw = api_key_create(name="bench-regex", role="app")
    connections.close_all()
    return raw


def over_http(requests: int) -> None:
    url = recreate_database(DATABASE)
    key = setup(url)
    with gunicorn(url, workers=2) as base:
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        body = json.dumps(
            {"unit_id": "u1", "experiments": ["evil"], "attributes": {"country": "a" * 40 + "!"}}
        )
        latencies, answers = [], set()
        for i in range(requests + 20):
            start = time.perf_counter()
            conn.request("POST", "/api/v1/assign", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if i >= 20:  # the first requests load definitions and keys
                latencies.append(time.perf_counter() - start)
                answers.add((response.status, json.loads(data)["assignments"][0]["reason"]))
        conn.close()
    ms = [t * 1000 for t in latencies]
    print(f"\nPOST /api/v1/assign, country = 'a' * 40 + '!', {requests} requests: {answers}")
    print(
        f"  p50 {percentile(ms, 50):.2f} ms   p99 {percentile(ms, 99):.2f} ms   "
        f"max {max(ms):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    if args.skip_server:
        import django

        django.setup()
        in_process()
        return
    over_http(args.requests)
    in_process()


if __name__ == "__main__":
    main()
