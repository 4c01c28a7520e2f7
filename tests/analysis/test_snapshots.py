"""Snapshots: stored inputs reproduce the results; idempotent refresh; failures keep the last
good snapshot; the analyze command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from analysis.engine.stats import ENGINE_VERSION
from analysis.models import ResultSnapshot
from analysis.selectors import snapshot_latest
from analysis.services.snapshots import RefreshFailed, experiment_refresh, snapshot_recompute
from experiments.models import Metric
from tests.analysis.helpers import T0, Data, experiment_with, metric

H = dt.timedelta(hours=1)
AS_OF = T0 + dt.timedelta(days=20)


def _populated(n: int = 60, **fields):
    arpu = metric("arpu", "mean", value_field="revenue", winsorize_percentile=99)
    d1 = metric("d1", "retention", event="app_open", retention_day=1)
    exp = experiment_with(
        [(metric("conv"), "primary"), (arpu, "secondary"), (d1, "guardrail")],
        variants=("control", "b", "c"),
        cuped=True,
        **fields,
    )
    rng = np.random.default_rng(11)
    d = Data(exp)
    for i in range(n):
        variant = ("control", "b", "c")[i % 3]
        unit = f"u{i}"
        d.expose(unit, variant, T0 + i * H, attributes={"platform": ("ios", "android")[i % 2]})
        if rng.random() < 0.4:
            d.event(unit, T0 + i * H + 2 * H, value=float(rng.exponential(20)))
        if rng.random() < 0.5:
            d.event(unit, T0 + i * H - 3 * H, value=float(rng.exponential(20)))
        if rng.random() < 0.5:
            d.event(unit, T0 + i * H + 30 * H, name="app_open")
    d.save()
    return exp


def test_snapshot__recompute_from_stored_inputs__reproduces_results_exactly(db: None) -> None:
    exp = _populated()
    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)
    stored = ResultSnapshot.objects.get(pk=snapshot.pk)
    assert stored.status == "ok"
    assert stored.engine_version == ENGINE_VERSION
    assert stored.plan["cuped"] is True
    assert snapshot_recompute(snapshot=stored) == stored.results
    assert stored.results["metrics"][0]["variants"][1]["p_value"] is not None


def test_refresh__same_as_of_twice__one_snapshot(db: None) -> None:
    exp = _populated()
    first = experiment_refresh(experiment=exp, as_of=AS_OF)
    second = experiment_refresh(experiment=exp, as_of=AS_OF)
    assert first.pk == second.pk
    assert ResultSnapshot.objects.filter(experiment=exp).count() == 1


def test_refresh__failure__stored_as_failed_and_last_good_snapshot_kept(db: None) -> None:
    exp = _populated()
    good = experiment_refresh(experiment=exp, as_of=AS_OF)
    # A metric definition the aggregation cannot handle (a ratio without its parts).
    broken = Metric.objects.create(key="broken", name="Broken", type="ratio", event="")
    exp.metric_links.create(metric=broken, role="secondary", position=9)
    with pytest.raises(RefreshFailed) as info:
        experiment_refresh(experiment=exp, as_of=AS_OF + H)
    assert info.value.snapshot.status == "failed"
    assert info.value.snapshot.error
    assert snapshot_latest(experiment=exp).pk == good.pk
    assert ResultSnapshot.objects.filter(experiment=exp, status="failed").count() == 1


def test_results__shape__has_the_documented_fields(db: None) -> None:
    exp = _populated()
    r = experiment_refresh(experiment=exp, as_of=AS_OF).results
    for key in ("experiment", "computed_at", "srm", "metrics", "decision", "health", "segments"):
        assert key in r
    assert set(r["srm"]) >= {"p_value", "mismatch"}
    conv = r["metrics"][0]
    assert (conv["metric"], conv["role"]) == ("conv", "primary")
    control, b = conv["variants"][0], conv["variants"][1]
    assert control["variant"] == "control" and "effect" not in control
    assert set(b) >= {"variant", "units", "mean", "effect", "ci", "p_value", "significant"}
    assert r["units"]["total"] == 60
    assert {s["attribute"] for s in r["segments"]} == {"platform"}
    assert all("p_value" in s["srm"] for s in r["segments"])


def test_analyze_command__known_key__prints_a_summary(db: None) -> None:
    exp = _populated()
    out = StringIO()
    call_command("analyze", exp.key, stdout=out)
    text = out.getvalue()
    assert f"{exp.key} phase 1" in text
    assert "conv (primary, conversion)" in text
    assert "Decision:" in text
    assert ResultSnapshot.objects.filter(experiment=exp, status="ok").count() == 1


def test_analyze_command__unknown_key__error(db: None) -> None:
    with pytest.raises(CommandError, match="No experiment"):
        call_command("analyze", "nope", stdout=StringIO())


def test_refresh__without_segments__same_results_and_no_segment_breakdown(db: None) -> None:
    """A history's past days are refreshed with ``segments=False``: everything but the segment
    breakdown equals a full refresh's."""
    exp = _populated()
    full = experiment_refresh(experiment=exp, as_of=AS_OF).inputs
    lean = experiment_refresh(experiment=exp, as_of=AS_OF + H, segments=False).inputs
    assert full["segments"], "the full refresh breaks the primary metric down by platform"
    assert lean["segments"] == []
    for key in ("units", "metrics", "excluded", "events", "units_by_day"):
        assert lean[key] == full[key], key
