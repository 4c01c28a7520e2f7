"""Precision and range of the refresh pipeline: values far from 0 and values out of range.

Values like 1e8 + N(0, 1): the variance is sum((y - mean)^2) / (n - 1), about 1 here, while the
plain sums it used to be computed from, sum(y^2) - (sum y)^2 / n, are near 4e18 for 400 units,
where one float64 step is 512; their difference keeps no correct digit. The aggregation now sums
(y - s) around a per-column shift s near the mean, and the tests below check the stored
snapshot against numpy on the raw per-unit values (centred float64) to 1e-9, and show that
plain sums of the same values miss by far more (measured: within 1e-14 centred; plain sums give
a variance of 3.85 for a true 1.00).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from django.db import connection

from analysis.aggregation.dialect import VALUE_LIMIT
from analysis.engine.stats import MeanStats, compare, stats_from_dict
from analysis.engine.stats.moments import arm_moments
from analysis.models import SnapshotStatus
from analysis.services.snapshots import experiment_refresh, snapshot_recompute
from assignment.models import Event
from tests.analysis.helpers import T0, Data, by_metric, experiment_with, metric

H = dt.timedelta(hours=1)
AS_OF = T0 + dt.timedelta(days=10)
ARMS = ("control", "treatment")
BASE = 1e8
TIGHT = 1e-9


def _variant(result: dict[str, Any], key: str, variant: str) -> dict[str, Any]:
    return next(v for v in by_metric(result, key)["variants"] if v["variant"] == variant)


def _stats(inputs: dict[str, Any], key: str, variant: str) -> Any:
    return stats_from_dict(by_metric(inputs, key)["stats"][variant])


def _far_from_zero_experiment(db: None) -> tuple[Any, dict[str, dict[str, np.ndarray]]]:
    """Revenue 1e8 + N(0, 1) per unit after exposure (treatment +0.3), a correlated
    pre-exposure revenue for CUPED, and an invoice of 3e9 + N(0, 2) per unit for a ratio over
    the unit's purchases (one each)."""
    revenue = metric("prec_revenue", "mean", value_field="revenue", window_hours=48)
    invoice = metric(
        "prec_invoice",
        "ratio",
        event="",
        numerator={"event": "invoice", "value_field": "amount"},
        denominator={"event": "purchase", "value_field": None},
        window_hours=48,
    )
    exp = experiment_with(
        [(revenue, "primary"), (invoice, "secondary"), (metric("prec_conv"), "guardrail")],
        cuped=True,
    )
    rng = np.random.default_rng(2026)
    d = Data(exp)
    raw: dict[str, dict[str, list[float]]] = {
        a: {"y": [], "x": [], "m": [], "ios": []} for a in ARMS
    }
    for i in range(800):
        arm = ARMS[i % 2]
        unit = f"p{i}"
        noise = rng.normal()
        y = BASE + noise + (0.3 if arm == "treatment" else 0.0)
        x = BASE + 0.6 * noise + rng.normal(0.0, 0.8)
        m = 3e9 + rng.normal(0.0, 2.0)
        ios = i % 3 == 0
        d.expose(unit, arm, T0, attributes={"platform": "ios" if ios else "web"})
        d.event(unit, T0 + H, value=y, properties={"revenue": y})
        d.event(unit, T0 - H, value=x, properties={"revenue": x})
        d.event(unit, T0 + 2 * H, name="invoice", properties={"amount": m})
        for key, v in (("y", y), ("x", x), ("m", m), ("ios", float(ios))):
            raw[arm][key].append(v)
    d.save()
    return exp, {a: {k: np.array(v) for k, v in cols.items()} for a, cols in raw.items()}


def _rel(got: float, want: float) -> float:
    return abs(got - want) / abs(want)


def test_refresh__values_far_from_zero__mean_variance_and_se_match_numpy_to_1e9(db: None) -> None:
    exp, raw = _far_from_zero_experiment(db)

    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)

    assert snapshot.status == SnapshotStatus.OK
    c, t = raw["control"], raw["treatment"]
    for arm, cols in raw.items():
        y, m = cols["y"], cols["m"]
        s = _stats(snapshot.inputs, "prec_revenue", arm)
        assert s.shift != 0.0  # the sums are centred...
        assert abs(s.sum) < 1e-3 * abs(y.sum())  # ...near the mean
        assert _rel(_variant(snapshot.results, "prec_revenue", arm)["mean"], y.mean()) < TIGHT
        assert _rel(arm_moments(s).variance, y.var(ddof=1)) < TIGHT
        ratio = _stats(snapshot.inputs, "prec_invoice", arm)
        assert _rel(arm_moments(ratio).mean, m.mean()) < TIGHT
        assert _rel(arm_moments(ratio).variance, m.var(ddof=1)) < TIGHT

    # The effect's standard errors. Absolute, without CUPED: sqrt(var_c/n_c + var_t/n_t).
    plain_se = np.sqrt(c["y"].var(ddof=1) / len(c["y"]) + t["y"].var(ddof=1) / len(t["y"]))
    sc, st = (_stats(snapshot.inputs, "prec_revenue", a) for a in ARMS)
    absolute = compare(_drop_pre(sc), _drop_pre(st), relative=False)
    assert _rel(absolute.stderr, plain_se) < TIGHT

    # Relative with CUPED (the stored result): theta pooled over both arms, the delta method.
    y_all, x_all = np.concatenate([c["y"], t["y"]]), np.concatenate([c["x"], t["x"]])
    theta = np.cov(y_all, x_all)[0, 1] / x_all.var(ddof=1)

    def arm_terms(a: dict[str, np.ndarray]) -> tuple[float, float, float]:
        cov = np.cov(a["y"], a["x"])[0, 1]
        return a["y"].var(ddof=1), a["x"].var(ddof=1), cov

    vyc, vxc, cxc = arm_terms(c)
    vyt, vxt, cxt = arm_terms(t)
    adj_t = vyt + theta**2 * vxt - 2 * theta * cxt
    r = t["y"].mean() / c["y"].mean()
    control_term = vyc * r**2 - 2 * theta * cxc * r + theta**2 * vxc
    want_se = np.sqrt(adj_t / len(t["y"]) + control_term / len(c["y"])) / c["y"].mean()
    got = _variant(snapshot.results, "prec_revenue", "treatment")
    assert _rel(got["stderr"], want_se) < TIGHT

    # Ratio: delta method with a constant denominator of 1, so var(M) / n per arm.
    ratio_se = np.sqrt(t["m"].var(ddof=1) / len(t["m"]) + c["m"].var(ddof=1) / len(c["m"]))
    rc, rt = (_stats(snapshot.inputs, "prec_invoice", a) for a in ARMS)
    assert _rel(compare(rc, rt, relative=False).stderr, ratio_se) < TIGHT

    # Segments are centred too: the primary metric's variance among iOS units.
    seg = next(
        s
        for s in snapshot.inputs["segments"]
        if (s["attribute"], s["value"]) == ("platform", "ios")
    )
    ios = c["y"][c["ios"] == 1.0]
    assert _rel(arm_moments(stats_from_dict(seg["stats"]["control"])).variance, ios.var(ddof=1)) < (
        TIGHT
    )

    # What plain sums of the same values (the old pipeline) give: no correct digit.
    y = c["y"]
    plain = MeanStats(n=len(y), sum=float(y.sum()), sum_squares=float((y * y).sum()))
    assert _rel(arm_moments(plain).variance, y.var(ddof=1)) > 1e-2

    # The stored inputs, shifts included, rebuild the same results.
    assert snapshot_recompute(snapshot=snapshot) == snapshot.results


def _drop_pre(s: MeanStats) -> MeanStats:
    return MeanStats(n=s.n, sum=s.sum, sum_squares=s.sum_squares, shift=s.shift)


def test_refresh__ordinary_values__inputs_keep_plain_sums(db: None) -> None:
    arpu = metric("prec_arpu", "mean", value_field="revenue")
    exp = experiment_with([(metric("prec_plain_conv"), "primary"), (arpu, "secondary")])
    d = Data(exp)
    values = {"control": [0.0, 12.5, 3.0], "treatment": [40.0, 0.0, 7.25]}
    for arm, ys in values.items():
        for i, y in enumerate(ys):
            d.expose(f"{arm}{i}", arm).event(f"{arm}{i}", T0 + H, value=y)
    d.save()

    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)

    for arm, ys in values.items():
        stored = by_metric(snapshot.inputs, "prec_arpu")["stats"][arm]
        assert "shift" not in stored
        assert stored["sum"] == pytest.approx(sum(ys))
        assert stored["sum_squares"] == pytest.approx(sum(y * y for y in ys))


def test_refresh__event_values_beyond_the_float_range__completes_with_a_metric_status(
    db: None,
) -> None:
    """20 stored events of 1.7e308 (their sum overflows a double) and a property of 10**400,
    written directly as ingestion used to accept them: the refresh completes, the metrics
    reading them say so, and the other metrics are unaffected."""
    revenue = metric("ovf_revenue", "mean", value_field="revenue")
    huge = metric("ovf_huge", "mean", event="order", value_field="huge")
    items = metric("ovf_items", "mean", value_field="items")
    exp = experiment_with(
        [(metric("ovf_conv"), "primary"), (revenue, "secondary"), (huge, "secondary")]
        + [(items, "guardrail")]
    )
    d = Data(exp)
    items_per_unit: dict[str, list[float]] = {a: [] for a in ARMS}
    for i in range(40):
        arm = ARMS[i % 2]
        unit = f"o{i}"
        d.expose(unit, arm)
        n_items = float(i % 4)
        d.event(unit, T0 + H, value=1.7e308 if i < 20 else 10.0, properties={"items": n_items})
        items_per_unit[arm].append(n_items)
    for _ in range(20):  # one unit with 20 such events: its own sum overflows too
        d.event("o0", T0 + 2 * H, value=1.7e308, properties={"items": 0})
    d.event("o1", T0 + 3 * H, name="order", properties={"huge": 10**400})
    d.event("o2", T0 + 3 * H, name="order", properties={"huge": 2.5})
    d.event("o4", T0 + 3 * H, name="order", properties={"huge": 1e-320})  # a double, barely
    d.event("o4", T0 + 4 * H, name="order", properties={})
    d.save()
    # A JSON number too small for a double (Python cannot write one).
    last = Event.objects.filter(unit_id="o4").latest("timestamp")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Event._meta.db_table} SET properties = %s WHERE id = %s",
            ['{"huge": -1e-400}', last.id],
        )

    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)

    assert snapshot.status == SnapshotStatus.OK
    affected = by_metric(snapshot.inputs, "ovf_revenue")
    assert affected["status"] == "values_out_of_range"
    assert affected["out_of_range_units"] == 20
    for arm in ARMS:
        s = _stats(snapshot.inputs, "ovf_revenue", arm)
        assert np.isfinite([s.sum, s.sum_squares]).all()
        assert abs(s.shift + s.sum / s.n) <= 20 * VALUE_LIMIT
    assert by_metric(snapshot.inputs, "ovf_huge")["out_of_range_units"] == 1
    assert _stats(snapshot.inputs, "ovf_huge", "control").sum == pytest.approx(2.5)
    fine = by_metric(snapshot.inputs, "ovf_items")
    assert "status" not in fine
    for arm in ARMS:
        # o0 and o1 had extra events with 0 items: their per-unit values are unchanged.
        ys = np.array(items_per_unit[arm])
        assert _variant(snapshot.results, "ovf_items", arm)["mean"] == pytest.approx(ys.mean())
        assert _stats(snapshot.inputs, "ovf_items", arm).sum_squares == pytest.approx(
            (ys * ys).sum()
        )
    assert _variant(snapshot.results, "ovf_conv", "treatment")["mean"] == 1.0
