"""Every metric type's statistics, all in one experiment, against a recomputation from the raw
exposure and event rows in Python (the windows and definitions of docs/analysis.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pytest

from analysis.aggregation import experiment_inputs
from analysis.aggregation.columns import METRIC_TYPES
from tests.analysis.helpers import T0, Data, experiment_with, metric, stats

DAY = dt.timedelta(days=1)
AS_OF = T0 + 12 * DAY
VARIANTS = ("control", "b", "c")
DEFINITIONS: dict[str, dict[str, Any]] = {
    "all_conv": {"type": "conversion", "event": "purchase", "window_hours": 24},
    "all_arpu": {
        "type": "mean",
        "event": "purchase",
        "value_field": "revenue",
        "winsorize_percentile": 90.0,
    },
    "all_items": {"type": "mean", "event": "purchase", "value_field": "items"},
    "all_aov": {
        "type": "ratio",
        "event": "",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": "purchase", "value_field": None},
        "winsorize_percentile": 95.0,
    },
    "all_d1": {"type": "retention", "event": "app_open", "retention_day": 1},
    "all_d7": {"type": "retention", "event": "app_open", "retention_day": 7},
    "all_refund": {"type": "conversion", "event": "refund"},
}


def test_metric_types__every_sum__feeds_a_field_of_its_statistics_class() -> None:
    for name, kind in METRIC_TYPES.items():
        fields = {f.name for f in dataclasses.fields(kind.stats)}
        columns = {c.name for c in kind.columns}
        for s in kind.sums:
            assert s.field in fields, f"{name}: {s.field} is not a {kind.stats.__name__} field"
            assert s.columns <= columns, f"{name}: {s.field} uses undeclared columns"


def _value(event: dict[str, Any], value_field: str | None) -> float | None:
    """What one event contributes (None: nothing), as documented for ``value_field``."""
    if not value_field:
        return 1.0
    prop = event["properties"].get(value_field)
    if isinstance(prop, int | float) and not isinstance(prop, bool):
        return float(prop)
    return event["value"]


def _total(events: list[dict[str, Any]], name: str, vf: str | None, t0, low, high) -> float:
    values = [
        _value(e, vf) for e in events if e["event"] == name and t0 + low <= e["at"] < t0 + high
    ]
    return float(sum(v for v in values if v is not None))


def _flag(events: list[dict[str, Any]], name: str, t0, low, high) -> float:
    return float(any(e["event"] == name and t0 + low <= e["at"] < t0 + high for e in events))


def _per_unit(key: str, t0: dt.datetime, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The metric's per-unit columns for one unit (None: an immature retention unit); only
    events before ``AS_OF`` count."""
    m = DEFINITIONS[key]
    w = dt.timedelta(hours=m.get("window_hours", 168))
    evs = [e for e in events if e["at"] < AS_OF]
    if m["type"] == "conversion":
        return {"y": _flag(evs, m["event"], t0, dt.timedelta(0), w)}
    if m["type"] == "mean":
        return {
            "y": _total(evs, m["event"], m["value_field"], t0, dt.timedelta(0), w),
            "x": _total(evs, m["event"], m["value_field"], t0, -w, dt.timedelta(0)),
        }
    if m["type"] == "ratio":
        num, den = m["numerator"], m["denominator"]
        return {
            "num": _total(evs, num["event"], num["value_field"], t0, dt.timedelta(0), w),
            "den": _total(evs, den["event"], den["value_field"], t0, dt.timedelta(0), w),
        }
    day = m["retention_day"]
    if t0 + (day + 1) * DAY > AS_OF:
        return {"y": None}
    return {"y": _flag(evs, m["event"], t0, day * DAY, (day + 1) * DAY)}


def _expected(units: dict[str, tuple[str, dt.datetime, list]], key: str) -> dict[str, Any]:
    """{variant: stats dict} and the caps for one metric, from the analysed units."""
    m = DEFINITIONS[key]
    rows = {u: _per_unit(key, t0, evs) for u, (_, t0, evs) in units.items()}
    caps: dict[str, float] = {}
    if m.get("winsorize_percentile"):
        names = {"y": "value", "x": "pre", "num": "numerator"}
        for col, cap_name in names.items():
            if all(col in r for r in rows.values()):
                caps[cap_name] = float(
                    np.percentile([r[col] for r in rows.values()], m["winsorize_percentile"])
                )
        for r in rows.values():
            for col, cap_name in names.items():
                if cap_name in caps:
                    r[col] = min(r[col], caps[cap_name])
    out: dict[str, Any] = {}
    for variant in VARIANTS:
        arm = [rows[u] for u, (v, _, _) in units.items() if v == variant]
        if m["type"] in ("conversion", "retention"):
            y = np.array([r["y"] for r in arm if r["y"] is not None])
            out[variant] = {"kind": "proportion", "n": len(y), "conversions": int(y.sum())}
        elif m["type"] == "mean":
            y, x = np.array([r["y"] for r in arm]), np.array([r["x"] for r in arm])
            out[variant] = {
                "kind": "mean",
                "n": len(y),
                "sum": y.sum(),
                "sum_squares": (y * y).sum(),
                "pre_sum": x.sum(),
                "pre_sum_squares": (x * x).sum(),
                "cross_sum": (y * x).sum(),
            }
        else:
            a, b = np.array([r["num"] for r in arm]), np.array([r["den"] for r in arm])
            out[variant] = {
                "kind": "ratio",
                "n": len(a),
                "numerator_sum": a.sum(),
                "numerator_sum_squares": (a * a).sum(),
                "denominator_sum": b.sum(),
                "denominator_sum_squares": (b * b).sum(),
                "numerator_denominator_sum": (a * b).sum(),
            }
    return {"stats": out, "caps": caps}


def test_inputs__every_metric_type_at_once__equal_a_recomputation_from_raw_rows(
    db: None,
) -> None:
    links = [
        (metric(key, **spec), "primary" if i == 0 else "secondary")
        for i, (key, spec) in enumerate(DEFINITIONS.items())
    ]
    exp = experiment_with(links, variants=VARIANTS, cuped=True)
    rng = np.random.default_rng(11)
    d = Data(exp)
    analysed: dict[str, tuple[str, dt.datetime, list]] = {}
    for i in range(240):
        unit, variant = f"u{i}", VARIANTS[i % 3]
        t0 = T0 + dt.timedelta(seconds=int(rng.integers(0, 11 * 86_400)), microseconds=i)
        excluded = i % 41 == 0
        d.expose(unit, variant, t0, forced=excluded, attributes={"platform": ["ios", "web"][i % 2]})
        events = []
        for _ in range(int(rng.integers(0, 9))):
            r = rng.random()
            props: dict[str, Any] = {}
            if r < 0.3:
                props = {"items": int(rng.integers(1, 5)), "revenue": float(rng.integers(1, 90))}
            elif r < 0.4:
                props = {"items": "several", "revenue": True}
            event = {
                "event": ["purchase", "app_open", "refund", "signup"][int(rng.integers(0, 4))],
                "at": t0 + dt.timedelta(seconds=float(rng.uniform(-8 * 86_400, 10 * 86_400))),
                "value": None if rng.random() < 0.1 else float(np.round(rng.exponential(20), 2)),
                "properties": props,
            }
            events.append(event)
            d.event(unit, event["at"], event["event"], event["value"], props)
        if not excluded:
            analysed[unit] = (variant, t0, events)
    d.save()

    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)

    assert inputs.units == {v: sum(x[0] == v for x in analysed.values()) for v in VARIANTS}
    for key, spec in DEFINITIONS.items():
        expected = _expected(analysed, key)
        got = inputs.metric(key)
        assert got.caps == pytest.approx(expected["caps"]), key
        for variant in VARIANTS:
            want = expected["stats"][variant]
            if spec["type"] == "mean" and not got.cuped:
                want.update(pre_sum=None, pre_sum_squares=None, cross_sum=None)
            assert stats(inputs, key, variant) == pytest.approx(want), (key, variant)
    d7 = inputs.metric("all_d7")
    assert sum(d7.immature_units.values()) > 0


def test_mean__value_field_with_percent_and_quotes__read_from_the_property(db: None) -> None:
    # Property names are data: passed as query parameters, never spliced into the SQL.
    share = metric("share_pct", "mean", value_field="share_%(x)s 'eur'")
    exp = experiment_with([(metric("plain_conv"), "primary"), (share, "secondary")])
    d = Data(exp).expose("t1", "treatment").expose("c1", "control")
    d.event("t1", T0 + DAY / 2, value=100.0, properties={"share_%(x)s 'eur'": 3.5})
    d.event("t1", T0 + DAY, value=2.0, properties={"share_%": 50})  # another key: the value
    d.save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    assert stats(inputs, "share_pct", "treatment")["sum"] == pytest.approx(5.5)
