"""Aggregation in the database: windows, maturity, winsorization, CUPED sums, exclusions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analysis.aggregation import experiment_inputs
from core.actors import Actor
from experiments.services.lifecycle import experiment_new_phase
from tests.analysis.helpers import T0, Data, experiment_with, metric, stats

H = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
US = dt.timedelta(microseconds=1)
AS_OF = T0 + 30 * DAY


def test_conversion__events_at_window_edges__only_inside_count(db: None) -> None:
    exp = experiment_with([(metric("conv", window_hours=24), "primary")])
    d = Data(exp)
    # Treatment units: one event each, at the edges of [t0, t0 + 24h).
    edges = {
        "at-exposure": T0,  # inside (inclusive start)
        "just-before-end": T0 + 24 * H - US,  # inside
        "at-end": T0 + 24 * H,  # outside (exclusive end)
        "just-before-exposure": T0 - US,  # outside
        "other-event": None,  # an event of another name inside the window
    }
    for unit, at in edges.items():
        d.expose(unit, "treatment", T0)
        if at is None:
            d.event(unit, T0 + H, name="signup")
        else:
            d.event(unit, at)
    d.expose("c1", "control", T0).expose("c2", "control", T0).event("c1", T0 + H)
    d.save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    assert stats(inputs, "conv", "treatment") == {"kind": "proportion", "n": 5, "conversions": 2}
    assert stats(inputs, "conv", "control") == {"kind": "proportion", "n": 2, "conversions": 1}
    assert inputs.units == {"control": 2, "treatment": 5}


def test_conversion__several_events_one_unit__counts_the_unit_once(db: None) -> None:
    exp = experiment_with([(metric("conv"), "primary")])
    d = Data(exp).expose("u1", "treatment").expose("u2", "treatment").expose("c", "control")
    for i in range(3):
        d.event("u1", T0 + (i + 1) * H)
    d.save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    assert stats(inputs, "conv", "treatment")["conversions"] == 1
    assert inputs.events == 3


def test_mean__per_unit_sums_with_zeros__matches_numpy(db: None) -> None:
    exp = experiment_with(
        [(metric("conv"), "primary"), (metric("arpu", "mean", value_field="revenue"), "secondary")]
    )
    d = Data(exp)
    per_unit = {"t1": [10.0, 5.5], "t2": [3.0], "t3": [], "t4": []}
    for unit, values in per_unit.items():
        d.expose(unit, "treatment")
        for i, v in enumerate(values):
            d.event(unit, T0 + (i + 1) * H, value=v)
    d.event("t3", T0 + 200 * H, value=99.0)  # after the 168 h window
    d.event("t4", T0 - H, value=99.0)  # before exposure
    d.expose("c1", "control").save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    y = np.array([sum(v) for v in per_unit.values()])
    s = stats(inputs, "arpu", "treatment")
    assert s["n"] == 4
    assert s["sum"] == pytest.approx(y.sum())
    assert s["sum_squares"] == pytest.approx((y**2).sum())
    assert stats(inputs, "arpu", "control") == {
        "kind": "mean",
        "n": 1,
        "sum": 0.0,
        "sum_squares": 0.0,
        "pre_sum": None,
        "pre_sum_squares": None,
        "cross_sum": None,
    }


def test_mean__value_field_property__used_before_event_value(db: None) -> None:
    exp = experiment_with(
        [(metric("conv"), "primary"), (metric("items", "mean", value_field="items"), "secondary")]
    )
    d = Data(exp).expose("t1", "treatment").expose("c1", "control")
    d.event("t1", T0 + H, value=100.0, properties={"items": 3})  # the property wins
    d.event("t1", T0 + 2 * H, value=2.0, properties={"items": "many"})  # not a number: value
    d.event("t1", T0 + 3 * H, value=None)  # nothing: contributes 0
    d.save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    assert stats(inputs, "items", "treatment")["sum"] == pytest.approx(5.0)


def test_ratio__numerator_and_denominator_per_unit__sums_and_cross_sum(db: None) -> None:
    aov = metric(
        "aov",
        "ratio",
        event="",
        numerator={"event": "purchase", "value_field": "revenue"},
        denominator={"event": "purchase", "value_field": None},
    )
    exp = experiment_with([(metric("conv"), "primary"), (aov, "secondary")])
    d = Data(exp)
    orders = {"t1": [20.0, 30.0], "t2": [5.0], "t3": []}
    for unit, values in orders.items():
        d.expose(unit, "treatment")
        for i, v in enumerate(values):
            d.event(unit, T0 + (i + 1) * H, value=v)
    d.event("t3", T0 + 169 * H, value=50.0)  # outside the window
    d.expose("c1", "control").save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    m = np.array([sum(v) for v in orders.values()])
    n = np.array([len(v) for v in orders.values()], dtype=float)
    s = stats(inputs, "aov", "treatment")
    assert s["n"] == 3
    assert s["numerator_sum"] == pytest.approx(m.sum())
    assert s["numerator_sum_squares"] == pytest.approx((m**2).sum())
    assert s["denominator_sum"] == pytest.approx(n.sum())
    assert s["denominator_sum_squares"] == pytest.approx((n**2).sum())
    assert s["numerator_denominator_sum"] == pytest.approx((m * n).sum())


def test_retention__day_boundaries_and_maturity__immature_units_left_out(db: None) -> None:
    d1 = metric("d1", "retention", event="app_open", retention_day=1)
    exp = experiment_with([(metric("conv"), "primary"), (d1, "secondary")])
    as_of = T0 + 10 * DAY
    d = Data(exp)
    # Mature units (day 1 = [t0 + 1d, t0 + 2d) ended before as_of).
    d.expose("active-start", "treatment", T0).event("active-start", T0 + DAY, "app_open")
    d.expose("active-end", "treatment", T0).event("active-end", T0 + 2 * DAY - US, "app_open")
    d.expose("day0-only", "treatment", T0).event("day0-only", T0 + DAY - US, "app_open")
    d.expose("day2-only", "treatment", T0).event("day2-only", T0 + 2 * DAY, "app_open")
    # Exactly mature: t0 + 2 days == as_of.
    edge = as_of - 2 * DAY
    d.expose("edge", "treatment", edge).event("edge", edge + DAY + H, "app_open")
    # Immature: day 1 not over at as_of, even though it already opened the app on day 1.
    late = as_of - 2 * DAY + US
    d.expose("immature", "treatment", late).event("immature", late + DAY + H, "app_open")
    d.expose("c1", "control", T0).save()
    inputs = experiment_inputs(experiment=exp, as_of=as_of)
    assert stats(inputs, "d1", "treatment") == {"kind": "proportion", "n": 5, "conversions": 3}
    m = inputs.metric("d1")
    assert m.immature_units == {"control": 0, "treatment": 1}
    assert inputs.units["treatment"] == 6


def test_winsorization__cap_at_pooled_percentile__matches_numpy(db: None) -> None:
    arpu = metric("arpu", "mean", value_field="revenue", winsorize_percentile=80)
    exp = experiment_with([(metric("conv"), "primary"), (arpu, "secondary")])
    rng = np.random.default_rng(3)
    values = {"control": rng.exponential(10, 23), "treatment": rng.exponential(12, 17)}
    values["treatment"][0] = 5000.0  # an outlier
    d = Data(exp)
    for variant, ys in values.items():
        for i, y in enumerate(ys):
            unit = f"{variant}-{i}"
            d.expose(unit, variant).event(unit, T0 + H, value=float(y))
        d.expose(f"{variant}-zero", variant)  # zeros are part of the distribution
    d.save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    arms = {k: np.append(v, 0.0) for k, v in values.items()}
    cap = np.percentile(np.concatenate(list(arms.values())), 80)
    m = inputs.metric("arpu")
    assert m.caps["value"] == pytest.approx(cap)
    for variant, ys in arms.items():
        capped = np.minimum(ys, cap)
        s = stats(inputs, "arpu", variant)
        assert s["sum"] == pytest.approx(capped.sum())
        assert s["sum_squares"] == pytest.approx((capped**2).sum())


def test_cuped__pre_exposure_window__pre_sums_and_cross_sum(db: None) -> None:
    arpu = metric("arpu", "mean", value_field="revenue", window_hours=48)
    exp = experiment_with([(metric("conv"), "primary"), (arpu, "secondary")], cuped=True)
    d = Data(exp)
    post = {"t1": 10.0, "t2": 0.0, "t3": 4.0}
    pre = {"t1": 6.0, "t2": 2.0, "t3": 0.0}
    for unit in post:
        d.expose(unit, "treatment", T0)
        if post[unit]:
            d.event(unit, T0 + H, value=post[unit])
        if pre[unit]:
            d.event(unit, T0 - 47 * H, value=pre[unit])  # inside [t0 - 48h, t0)
    d.event("t2", T0 - 48 * H - US, value=100.0)  # just before the pre-window
    d.event("t3", T0 - 48 * H, value=1.5)  # the pre-window's first instant
    d.expose("c1", "control").save()
    pre["t3"] = 1.5
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    y, x = np.array(list(post.values())), np.array(list(pre.values()))
    s = stats(inputs, "arpu", "treatment")
    assert s["pre_sum"] == pytest.approx(x.sum())
    assert s["pre_sum_squares"] == pytest.approx((x**2).sum())
    assert s["cross_sum"] == pytest.approx((x * y).sum())
    assert s["sum"] == pytest.approx(y.sum())


def test_exclusions__forced_and_multiple_variant_units__left_out_and_counted(db: None) -> None:
    exp = experiment_with([(metric("conv"), "primary")])
    d = Data(exp)
    d.expose("qa", "treatment", forced=True).event("qa", T0 + H)
    d.expose("twice", "treatment", multiple=True).event("twice", T0 + H)
    d.expose("both", "control", forced=True, multiple=True)
    d.expose("t1", "treatment").expose("c1", "control").save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    assert inputs.units == {"control": 1, "treatment": 1}
    # A unit can be both forced and exposed to several variants: counted in both, once in total.
    assert inputs.excluded.to_dict() == {"forced": 2, "multiple_variants": 2, "total": 3}
    assert stats(inputs, "conv", "treatment")["conversions"] == 0


def test_phases__new_phase__only_current_phase_exposures_count(db: None) -> None:
    exp = experiment_with([(metric("conv"), "primary")])
    Data(exp).expose("old1", "treatment").expose("old2", "control").save()
    exp = experiment_new_phase(actor=Actor.system("test"), experiment=exp, reason="weights")
    Data(exp).expose("new1", "treatment").event("new1", T0 + H).save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    assert inputs.phase == 2
    assert inputs.units == {"control": 0, "treatment": 1}


def test_as_of__later_exposures_and_events__not_counted(db: None) -> None:
    exp = experiment_with([(metric("conv"), "primary")])
    as_of = T0 + 2 * H
    d = Data(exp).expose("t1", "treatment").expose("c1", "control")
    d.event("t1", as_of + US).expose("late", "treatment", as_of + US).save()
    inputs = experiment_inputs(experiment=exp, as_of=as_of)
    assert inputs.units == {"control": 1, "treatment": 1}
    assert stats(inputs, "conv", "treatment")["conversions"] == 0
    assert inputs.freshness.last_exposure_at == T0.isoformat()


def test_segments__top_values_and_other__per_attribute_sums(db: None, monkeypatch) -> None:
    from analysis.aggregation import segments

    monkeypatch.setattr(segments, "TOP_VALUES", 2)
    exp = experiment_with([(metric("conv"), "primary")])
    d = Data(exp)
    countries = ["CN"] * 5 + ["SG"] * 4 + ["US"] * 2 + ["DE"]
    for i, country in enumerate(countries):
        variant = "treatment" if i % 2 else "control"
        attrs = {"country": country, "is_new_user": i < 6, "user_id": f"u{i}", "nested": {"a": 1}}
        d.expose(f"u{i}", variant, attributes=attrs)
        if country == "CN":
            d.event(f"u{i}", T0 + H)
    d.save()
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    segs = {(s.attribute, s.value): s for s in inputs.segments}
    assert set(segs) == {
        ("country", "CN"),
        ("country", "SG"),
        ("country", "other"),
        ("is_new_user", "true"),
        ("is_new_user", "false"),
    }
    cn = segs[("country", "CN")]
    assert cn.units == {"control": 3, "treatment": 2}
    assert cn.stats["control"].to_dict() == {"kind": "proportion", "n": 3, "conversions": 3}
    assert segs[("country", "other")].units == {"control": 1, "treatment": 2}


def test_units_by_day__utc_day_of_first_exposure__per_variant_with_exclusions_left_out(
    db: None,
) -> None:
    exp = experiment_with([(metric("conv"), "primary")])
    d = Data(exp)
    midnight = dt.datetime(2026, 1, 6, tzinfo=dt.UTC)
    exposures = {
        "a": ("control", T0),  # 2026-01-05 12:00
        "b": ("treatment", midnight - US),  # the last microsecond of 2026-01-05
        "c": ("treatment", midnight),  # the first of 2026-01-06
        "d": ("control", midnight + 5 * H),
        "e": ("control", midnight + 3 * DAY + H),  # 2026-01-09
    }
    for unit, (variant, at) in exposures.items():
        d.expose(unit, variant, at)
    d.expose("forced", "treatment", T0, forced=True)
    d.expose("multi", "treatment", T0, multiple=True)
    d.expose("late", "treatment", AS_OF + US)
    d.save()
    expected: dict[str, dict[str, int]] = {}
    for variant, at in exposures.values():
        day = expected.setdefault(at.date().isoformat(), {"control": 0, "treatment": 0})
        day[variant] += 1
    inputs = experiment_inputs(experiment=exp, as_of=AS_OF)
    assert inputs.units_by_day == expected
    assert expected == {
        "2026-01-05": {"control": 1, "treatment": 1},
        "2026-01-06": {"control": 1, "treatment": 1},
        "2026-01-09": {"control": 1, "treatment": 0},
    }
