"""The curve metrics end to end on the database: a retention curve (days 1..30, W1, M1) and a
value to date (LTV) curve (D1..D30, D60), over units exposed across 70 days so each point has
its own mature units. A snapshot is refreshed and every point's statistics and comparison are
checked against an independent computation on the same per-unit data (numpy, scipy).

Runs on SQLite by default and on PostgreSQL with DATABASE_URL set."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import jsonschema
import numpy as np
import pytest
from drf_spectacular.generators import SchemaGenerator
from scipy import stats as sps

from analysis.engine import analyze
from analysis.engine.contract import Plan, Results, SnapshotInputs, results_from_stored
from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh
from experiments.models import Experiment
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.analysis.reference import welch_relative
from tests.analysis.test_contract_schema import _closed, _validate

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)
AS_OF = T0 + 75 * DAY
N_PER_ARM = 150
ACTIVITY = [{"event": "app_open"}, {"event": "purchase", "filter": {"coupon": "NEW10"}}]


def _simulate(exp: Experiment, seed: int = 7) -> list[tuple[dt.datetime, str, list]]:
    rng = np.random.default_rng(seed)
    d = Data(exp)
    units = []
    for i in range(2 * N_PER_ARM):
        unit, variant = f"u{i}", ("control", "treatment")[i % 2]
        t0 = T0 + float(rng.uniform(0, 70)) * DAY
        if i == 0:
            t0 = AS_OF - 8 * DAY  # exactly mature for W1 (and day 7)
        if i == 1:
            t0 = AS_OF - 31 * DAY + dt.timedelta(seconds=1)  # one second short of M1
        d.expose(unit, variant, t0)
        events: list[tuple[dt.datetime, str, dict[str, Any]]] = []
        keep = 0.12 if variant == "control" else 0.15
        for day in range(0, 75):
            if rng.random() < keep * (0.4 + 0.6 * 0.93**day):
                events.append((t0 + (day + float(rng.uniform(0, 1))) * DAY, "app_open", {}))
        if i % 9 == 0:  # an open exactly at the start of day 3: counts for day 3, not day 2
            events.append((t0 + 3 * DAY, "app_open", {}))
        first_order = rng.random() < (0.5 if variant == "control" else 0.6)
        for j in range(int(rng.poisson(2.0 if variant == "control" else 2.4)) + first_order):
            at = t0 + float(rng.uniform(0, 2) if j < first_order else rng.uniform(-5, 80)) * DAY
            props: dict[str, Any] = {"revenue": float(np.round(rng.exponential(30.0), 2))}
            if rng.random() < 0.4:
                props["coupon"] = "NEW10"
            events.append((at, "purchase", props))
        for at, name, props in events:
            d.event(unit, at, name, value=props.get("revenue"), properties=props)
        units.append((t0, variant, events))
    d.save()
    return units


def _active(events: list, t0: dt.datetime, low: int, high: int) -> bool:
    return any(
        t0 + low * DAY <= at < t0 + high * DAY and at < AS_OF
        for at, name, props in events
        if name == "app_open" or (name == "purchase" and props.get("coupon") == "NEW10")
    )


def _value(events: list, t0: dt.datetime, days: int) -> float:
    return sum(
        props["revenue"]
        for at, name, props in events
        if name == "purchase" and t0 <= at < t0 + days * DAY and at < AS_OF
    )


def _arms(units: list, mature_days: int, column: Any) -> dict[str, np.ndarray]:
    """Per variant, the per-unit values of the units exposed ``mature_days`` before AS_OF."""
    out: dict[str, list[float]] = {"control": [], "treatment": []}
    for t0, variant, events in units:
        if t0 <= AS_OF - mature_days * DAY:
            out[variant].append(float(column(events, t0)))
    return {k: np.array(v) for k, v in out.items()}


RETENTION_POINTS = {
    **{f"D{d}": (d, d + 1, d + 1) for d in range(1, 31)},
    "W1": (1, 8, 8),
    "M1": (1, 31, 31),
}
VALUE_POINTS = {**{f"D{k}": (0, k, k) for k in range(1, 31)}, "D60": (0, 60, 60)}


@pytest.fixture
def refreshed() -> tuple[dict[str, Any], dict[str, Any], list]:
    retention = metric("c_retention", "retention_curve", event="", activity=ACTIVITY)
    value = metric(
        "c_ltv", "value_curve", value_field="revenue", horizon_days=60, higher_is_better=True
    )
    exp = experiment_with([(retention, "primary"), (value, "secondary")])
    units = _simulate(exp)
    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)
    assert snapshot.status == "ok", snapshot.error
    return snapshot.inputs, snapshot.results, units


def _metric(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(m for m in data["metrics"] if m["metric"] == key)


def _point_rows(results: dict[str, Any], key: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        p["point"]: {v["variant"]: v for v in p["variants"]}
        for p in _metric(results, key)["points"]
    }


def test_retention_curve__every_point__mature_units_and_welch_match(refreshed) -> None:
    inputs, results, units = refreshed
    stored = {p["point"]: p for p in _metric(inputs, "c_retention")["points"]}
    rows = _point_rows(results, "c_retention")
    assert set(stored) == set(rows) == set(RETENTION_POINTS)
    for name, (low, high, mature) in RETENTION_POINTS.items():
        arms = _arms(units, mature, lambda ev, t0, lo=low, hi=high: _active(ev, t0, lo, hi))
        for variant, y in arms.items():
            assert stored[name]["stats"][variant] == {
                "kind": "proportion",
                "n": len(y),
                "conversions": int(y.sum()),
            }, name
            assert stored[name]["immature_units"][variant] == N_PER_ARM - len(y), name
            assert rows[name][variant]["units"] == len(y)
        c, t = arms["control"], arms["treatment"]
        row = rows[name]["treatment"]
        assert row["mean"] == pytest.approx(t.mean(), rel=1e-12), name
        assert row["effect"] == pytest.approx((t.mean() - c.mean()) / c.mean(), rel=1e-9), name
        thin = min(c.sum(), len(c) - c.sum(), t.sum(), len(t) - t.sum()) < 5
        assert row["test"] == ("fisher_exact" if thin else "welch"), name
        if thin:  # the engine's exact test for thin conversion data
            table = [[t.sum(), len(t) - t.sum()], [c.sum(), len(c) - c.sum()]]
            assert row["p_value"] == pytest.approx(sps.fisher_exact(table).pvalue, rel=1e-6)
            continue
        expected = welch_relative(c, t, proportion=True)
        assert row["ci"] == pytest.approx(expected["ci"], rel=1e-9), name
        assert row["p_value"] == pytest.approx(expected["p_value"], rel=1e-6), name
    # Points in day order: D1..D30, then W1 and M1.
    order = [p["point"] for p in _metric(results, "c_retention")["points"]]
    assert order == [*(f"D{d}" for d in range(1, 31)), "W1", "M1"]
    # The data has a shape: fewer mature units and less activity as the days go by.
    assert stored["D1"]["stats"]["control"]["n"] > stored["D30"]["stats"]["control"]["n"] > 0
    assert rows["D2"]["control"]["mean"] > rows["D29"]["control"]["mean"]


def test_retention_curve__headline_is_w1__decision_reads_it(refreshed) -> None:
    inputs, results, _ = refreshed
    m = _metric(results, "c_retention")
    assert m["headline"] == "W1"
    w1 = next(p for p in m["points"] if p["point"] == "W1")
    assert m["variants"] == list(w1["variants"])
    typed = results_from_stored(results)
    assert typed.metrics[0].points[0].point == "D1"
    # The decision and health are those of a plain proportion metric with W1's statistics.
    as_plain = SnapshotInputs.from_dict(inputs)
    curve = as_plain.metrics[0]
    plain = dataclasses.replace(curve, type="retention", points=())
    as_plain = dataclasses.replace(as_plain, metrics=(plain, *as_plain.metrics[1:]))
    again = analyze(as_plain, Plan.from_dict(results["plan"]), computed_at="now").to_dict()
    assert again["decision"] == results["decision"]
    assert again["health"] == results["health"]
    assert _metric(again, "c_retention")["variants"] == m["variants"]
    assert "points" not in _metric(again, "c_retention")


def test_value_curve__every_point__cumulative_means_match_welch(refreshed) -> None:
    inputs, results, units = refreshed
    stored = {p["point"]: p for p in _metric(inputs, "c_ltv")["points"]}
    rows = _point_rows(results, "c_ltv")
    assert set(stored) == set(rows) == set(VALUE_POINTS)
    assert _metric(results, "c_ltv")["headline"] == "D7"
    for name, (_, high, mature) in VALUE_POINTS.items():
        arms = _arms(units, mature, lambda ev, t0, k=high: _value(ev, t0, k))
        for variant, y in arms.items():
            s = stored[name]["stats"][variant]
            assert s["kind"] == "mean" and s["n"] == len(y), name
            assert s.get("shift", 0) + s["sum"] / max(len(y), 1) == pytest.approx(
                y.mean() if len(y) else 0.0, rel=1e-9, abs=1e-9
            ), name
        c, t = arms["control"], arms["treatment"]
        row = rows[name]["treatment"]
        assert row["mean"] == pytest.approx(t.mean(), rel=1e-9), name
        assert row["status"] == "ok", name
        assert row["effect"] == pytest.approx(welch_relative(c, t)["effect"], rel=1e-9), name
        welch = sps.ttest_ind(t, c, equal_var=False)
        assert row["absolute_effect"] == pytest.approx(t.mean() - c.mean(), rel=1e-9), name
        assert row["absolute_ci"] == pytest.approx(list(welch.confidence_interval(0.95)), rel=1e-9)
        assert row["p_value"] == pytest.approx(welch.pvalue, rel=1e-6), name
    # Value to date grows (each point over its own mature units), and D60 has fewer units.
    assert rows["D30"]["control"]["mean"] > rows["D7"]["control"]["mean"] > 0
    assert 0 < rows["D60"]["control"]["units"] < rows["D30"]["control"]["units"]


def test_curve_snapshot__stored_and_served_json__valid_under_the_schemas(viewer) -> None:
    """The points are typed: the stored results and inputs validate under the classes' closed
    schemas and read back byte for byte, and the served results under the OpenAPI
    components; an old (version 5) result still reads."""
    retention = metric("s_retention", "retention_curve", event="", activity=ACTIVITY)
    value = metric("s_ltv", "value_curve", value_field="revenue", horizon_days=45)
    exp = experiment_with([(retention, "primary"), (value, "guardrail")])
    _simulate(exp)
    made = experiment_refresh(experiment=exp, as_of=AS_OF)
    stored = ResultSnapshot.objects.get(pk=made.pk)
    jsonschema.Draft202012Validator(_closed(Results.json_schema())).validate(stored.results)
    jsonschema.Draft202012Validator(_closed(SnapshotInputs.json_schema())).validate(stored.inputs)
    assert json.dumps(Results.from_dict(made.results).to_dict()) == json.dumps(made.results)
    assert json.dumps(SnapshotInputs.from_dict(made.inputs).to_dict()) == json.dumps(made.inputs)
    points = [p["point"] for p in _metric(made.results, "s_ltv")["points"]]
    assert points == [*(f"D{k}" for k in range(1, 31)), "D45"]
    body = viewer.get(f"/api/v1/experiments/{exp.key}/results").json()
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    _validate(body, "ResultsResponse", components)
    assert body["metrics"][0]["headline"] == "W1" and len(body["metrics"][0]["points"]) == 32
    # A version 5 result (no curves then) reads as version 6 with no points.
    old = {**json.loads(json.dumps(made.results)), "schema_version": 5}
    for m in old["metrics"]:
        m.pop("points", None), m.pop("headline", None)
    assert results_from_stored(old).metrics[0].points == ()
