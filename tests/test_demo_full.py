"""The demo at its full size, as ``make run`` loads it: ``manage.py demo`` in a subprocess against
a fresh SQLite file, timed, then every story checked from the stored snapshots.

Slow (CI's full pass runs it; ``make test`` leaves it out): it loads over half a million
exposures and a snapshot a day for three weeks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 60  # the goal: met on one idle 2-core machine (47-51 s), missed on
# another (83-92 s for the same code, 2026-12-07): docs/simulation.md. The check below guards
# against a regression (a scan per unit once made the load take hours) with room for slower
# machines; the time and whether the goal was met are printed.
CEILING_SECONDS = 150
MIN_EXPOSED = 100_000


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )


def _read(database: Path) -> dict[str, Any]:
    """What the checks need, read by a child process from the demo's database (this test
    process keeps its own test database)."""
    code = """
import json, django
django.setup()
from analysis.models import PlantedEffect, ResultSnapshot
from assignment.models import Event, Exposure
from experiments.models import AuditLogEntry, Experiment
from analysis.models import Notification
out = {"exposures": Exposure.objects.count(), "events": Event.objects.count(),
       "snapshots": ResultSnapshot.objects.count(), "experiments": {}}
for e in Experiment.objects.all():
    latest = ResultSnapshot.objects.filter(experiment=e, status="ok").order_by("-as_of").first()
    out["experiments"][e.key] = {
        "status": e.status,
        "learnings": e.learnings,
        "decision": e.decision,
        "exposed": Exposure.objects.filter(experiment=e).count(),
        "snapshots": ResultSnapshot.objects.filter(experiment=e).count(),
        "results": latest.results if latest else None,
        "planted": list(PlantedEffect.objects.filter(experiment=e).values_list(
            "metric", "variant", "effect")),
        "pauses": list(AuditLogEntry.objects.filter(experiment=e, action="pause").values_list(
            "actor_label", flat=True)),
        "breaker_notes": Notification.objects.filter(
            experiment=e, condition__contains=":breaker:").count(),
        "paused_days": [(a.at - e.started_at).days for a in AuditLogEntry.objects.filter(
            experiment=e, action="pause")],
    }
print(json.dumps(out))
"""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def _comparison(results: dict[str, Any], metric: str) -> dict[str, Any]:
    [m] = [m for m in results["metrics"] if m["metric"] == metric]
    [v] = [v for v in m["variants"] if not v.get("is_control")]
    return v


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    _manage(env, "migrate", "--noinput", "-v", "0")
    started = time.perf_counter()
    loaded = _manage(env, "demo")
    seconds = time.perf_counter() - started
    print(f"\nmanage.py demo on a fresh SQLite database: {seconds:.1f} s")
    print(loaded.stdout.splitlines()[0])
    data = _read(database)
    data["seconds"] = seconds
    _print_estimates(data)
    return data


def _print_estimates(data: dict[str, Any]) -> None:
    """Every comparison of the latest snapshots: planted truth, estimate, interval, p-value."""
    print(
        f"{data['exposures']:,} exposures, {data['events']:,} events, {data['snapshots']} snapshots"
    )
    for key, e in sorted(data["experiments"].items()):
        if not e["results"]:
            continue
        print(f"{key} ({e['status']}): {e['exposed']:,} exposed, {e['snapshots']} snapshots")
        planted = {(m, v): x for m, v, x in e["planted"]}
        for m in e["results"]["metrics"]:
            for v in m["variants"]:
                if v["is_control"] or v["effect"] is None:
                    continue
                truth = planted.get((m["metric"], v["variant"]))
                low, high = v["ci"]
                chance = v.get("chance_to_win")
                odds = (
                    f"p={v['p_value']:.3g}" if v.get("p_value") is not None else f"P(win)={chance}"
                )
                print(
                    f"  {m['role']:<9} {m['metric']:<16} planted "
                    f"{'-' if truth is None else f'{truth:+.2%}'}, estimate {v['effect']:+.2%} "
                    f"[{low:+.2%}, {high:+.2%}] {odds} significant={v['significant']}"
                )


def test_demo_full__fresh_sqlite__time_printed_and_within_the_ceiling(demo):
    met = "met" if demo["seconds"] < GOAL_SECONDS else "NOT met"
    print(f"demo load {demo['seconds']:.1f} s: the {GOAL_SECONDS}-second goal {met}")
    assert demo["seconds"] < CEILING_SECONDS, f"{demo['seconds']:.1f} s"


def test_demo_full__every_experiment_with_traffic__over_100000_exposed(demo):
    with_traffic = {k: e for k, e in demo["experiments"].items() if e["exposed"]}
    assert len(with_traffic) == 5
    for key, e in with_traffic.items():
        assert e["exposed"] >= MIN_EXPOSED, key
        assert e["results"]["units"]["total"] >= MIN_EXPOSED * 0.99, key  # few excluded


def test_demo_full__planted_primary_effects__significant_right_sign_inside_interval(demo):
    for key in ("pricing-pro-tier", "onboarding-checklist", "new-user-coupon"):
        e = demo["experiments"][key]
        primary = next(m for m in e["results"]["metrics"] if m["role"] == "primary")
        planted = {(m, v): x for m, v, x in e["planted"]}
        v = _comparison(e["results"], primary["metric"])
        truth = planted[(primary["metric"], v["variant"])]
        low, high = v["ci"]
        print(
            f"{key} {primary['metric']}: planted {truth:+.2%}, estimate {v['effect']:+.2%} "
            f"[{low:+.2%}, {high:+.2%}], p={v.get('p_value')}, "
            f"chance to win={v.get('chance_to_win')}"
        )
        assert v["significant"], key
        assert (v["effect"] > 0) == (truth > 0), key
        assert low <= truth <= high, key


def test_demo_full__pricing__conversion_down_revenue_up_both_significant(demo):
    results = demo["experiments"]["pricing-pro-tier"]["results"]
    conversion = _comparison(results, "paid_conversion")
    revenue = _comparison(results, "arpu")
    assert conversion["significant"] and conversion["effect"] < 0
    assert revenue["significant"] and revenue["effect"] > 0


def test_demo_full__coupon__order_value_down_and_refund_guardrail_harmed(demo):
    results = demo["experiments"]["new-user-coupon"]["results"]
    aov = _comparison(results, "aov")
    refunds = _comparison(results, "refund_rate")
    assert aov["significant"] and aov["effect"] < 0
    assert refunds["significant"] and refunds["effect"] > 0  # more refunds: the guardrail story


def test_demo_full__aa__nothing_significant(demo):
    results = demo["experiments"]["checkout-aa"]["results"]
    assert not any(
        v["significant"] for m in results["metrics"] for v in m["variants"] if not v["is_control"]
    )


def test_demo_full__express_checkout__paused_by_the_guardrail_breaker(demo):
    e = demo["experiments"]["express-checkout"]
    assert e["status"] == "paused"
    assert e["pauses"] == ["analysis"]
    # Paused on its first simulated days (so it ran a day or two), not on the day of loading.
    assert len(e["paused_days"]) == 1 and 0 <= e["paused_days"][0] <= 2
    assert e["breaker_notes"] >= 1


def test_demo_full__onboarding__concluded_with_its_readout(demo):
    e = demo["experiments"]["onboarding-checklist"]
    assert e["status"] == "concluded" and e["decision"] == "ship"
    assert "复盘" in e["learnings"]
    assert e["snapshots"] >= 21  # one a day for three weeks, and the final one
