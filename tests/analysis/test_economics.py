"""The report's Economics section (analysis.engine.economics) against numpy/scipy on the raw
per-user data: scaled impact per 1,000 users, a price test's break-even, and a promotion's net
revenue after its cost."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats as sps

from analysis.engine import analyze
from analysis.engine.contract import (
    Excluded,
    Freshness,
    MetricInputs,
    Plan,
    SnapshotInputs,
    VariantSpec,
)
from analysis.engine.economics import (
    ABOVE,
    BELOW,
    NET_METRIC,
    PAYLOAD,
    REVENUE_MINUS_COST,
    REVENUE_PER_CONVERTER,
    UNCLEAR,
    MetricDefinition,
    economic_metrics,
    experiment_economics,
    payload_prices,
)
from analysis.engine.stats import MeanStats, ProportionStats

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 14
ALPHA = 0.05
Z = sps.norm.ppf(1 - ALPHA / 2)

CONVERSION = MetricDefinition("paid_conversion", "Paid conversion", "conversion", "purchase")
ARPU = MetricDefinition("arpu", "ARPU", "mean", "purchase", "revenue")
NET = MetricDefinition("net_revenue", "Net revenue", "mean", "purchase", "net_revenue")
COST = MetricDefinition(
    "coupon_cost", "Coupon cost", "mean", "coupon_redeemed", "value", higher_is_better=False
)
REFUNDS = MetricDefinition("refund_rate", "Refunds", "conversion", "refund", "", False)


def _arms(seed: int, n: int, rates: tuple[float, float], coupon: float = 0.0) -> dict:
    """Raw per-user data for control and treatment: converted, revenue, cost, net."""
    rng = np.random.default_rng(seed)
    arms = {}
    for key, rate in zip(("control", "treatment"), rates, strict=True):
        converted = (rng.random(n) < rate).astype(float)
        revenue = converted * np.round(rng.lognormal(np.log(40), 0.8, n), 2)
        cost = converted * (coupon if key == "treatment" else 0.0)
        arms[key] = {
            "paid_conversion": converted,
            "arpu": revenue,
            "coupon_cost": cost,
            "net_revenue": revenue - cost,
        }
    return arms


def _stats(values: np.ndarray, kind: str) -> ProportionStats | MeanStats:
    if kind == "conversion":
        return ProportionStats(n=len(values), conversions=int(values.sum()))
    return MeanStats(n=len(values), sum=float(values.sum()), sum_squares=float((values**2).sum()))


def _snapshot(arms: dict, metrics: list[MetricDefinition]):
    variants = (
        VariantSpec(key="control", name="Control", weight=1, is_control=True),
        VariantSpec(key="treatment", name="Treatment", weight=1, is_control=False),
    )
    inputs = SnapshotInputs(
        experiment="econ",
        phase=1,
        as_of=(START + dt.timedelta(days=DAYS)).isoformat(),
        status="running",
        started_at=START.isoformat(),
        variants=variants,
        units={k: len(a["paid_conversion"]) for k, a in arms.items()},
        excluded=Excluded(forced=0, multiple_variants=0, total=0),
        events=1,
        freshness=Freshness(last_exposure_at=None, last_event_at=None),
        metrics=tuple(
            MetricInputs(
                metric=m.key,
                name=m.name,
                type=m.type,
                role="primary" if i == 0 else "secondary",
                higher_is_better=m.higher_is_better,
                cuped=False,
                caps={},
                stats={k: _stats(a[m.key], m.type) for k, a in arms.items()},
                immature_units={},
            )
            for i, m in enumerate(metrics)
        ),
        segments=(),
    )
    plan = Plan(
        alpha=ALPHA,
        method="frequentist",
        correction=None,
        cuped=False,
        mde=0.05,
        planned_sample_size=None,
        planned_duration_days=None,
    )
    results = analyze(inputs, plan, computed_at="2026-03-15", engine_version="t")
    return inputs, results


def _welch(t: np.ndarray, c: np.ndarray, *, ddof: int = 1) -> tuple[float, float, float]:
    """Difference of means and its Welch interval, computed here from the raw data."""
    vt, vc = t.var(ddof=ddof) / len(t), c.var(ddof=ddof) / len(c)
    dof = (vt + vc) ** 2 / (vt**2 / (len(t) - 1) + vc**2 / (len(c) - 1))
    diff = t.mean() - c.mean()
    half = sps.t.ppf(1 - ALPHA / 2, dof) * math.sqrt(vt + vc)
    return diff, diff - half, diff + half


def test_economics__pricing__scaled_impact_matches_numpy_per_1000_users() -> None:
    arms = _arms(1, 4000, (0.08, 0.072))
    inputs, results = _snapshot(arms, [CONVERSION, ARPU])
    econ = experiment_economics(
        kind="pricing",
        results=results,
        inputs=inputs,
        metrics=[CONVERSION, ARPU],
        payloads={"control": {"plans": {"pro": 29}}, "treatment": {"plans": {"pro": 39}}},
    )
    assert econ is not None
    assert econ.units == 8000
    assert econ.daily_users == pytest.approx(8000 / DAYS)
    by = {i.variant: i for i in econ.impacts}
    for key, arm in arms.items():
        conv, rev = arm["paid_conversion"], arm["arpu"]
        p = conv.mean()
        se_p = math.sqrt(p * (1 - p) / len(conv))  # the engine's unit variance p(1 - p)
        assert by[key].conversions.value == pytest.approx(1000 * p, rel=1e-12)
        assert by[key].conversions.low == pytest.approx(1000 * (p - Z * se_p), rel=1e-9)
        assert by[key].conversions.high == pytest.approx(1000 * (p + Z * se_p), rel=1e-9)
        se_r = rev.std(ddof=1) / math.sqrt(len(rev))
        assert by[key].revenue.value == pytest.approx(1000 * rev.mean(), rel=1e-12)
        assert by[key].revenue.low == pytest.approx(1000 * (rev.mean() - Z * se_r), rel=1e-9)
        assert by[key].revenue.high == pytest.approx(1000 * (rev.mean() + Z * se_r), rel=1e-9)
    t, c = arms["treatment"], arms["control"]
    diff, low, high = _welch(t["arpu"], c["arpu"])
    treated = by["treatment"]
    assert (treated.revenue_diff.value, treated.revenue_diff.low, treated.revenue_diff.high) == (
        pytest.approx(1000 * diff, rel=1e-9),
        pytest.approx(1000 * low, rel=1e-6),
        pytest.approx(1000 * high, rel=1e-6),
    )
    assert treated.revenue_diff_daily.value == pytest.approx(diff * 8000 / DAYS, rel=1e-9)
    diff, low, high = _welch(t["paid_conversion"], c["paid_conversion"], ddof=0)
    assert treated.conversions_diff.low == pytest.approx(1000 * low, rel=1e-6)
    assert treated.conversions_diff.high == pytest.approx(1000 * high, rel=1e-6)
    assert by["control"].conversions_diff is None


def test_economics__price_from_payload__break_even_and_verdict_above() -> None:
    # 39 instead of 29 while conversion falls about 5%: well inside the 25.6% break-even.
    arms = _arms(2, 30000, (0.10, 0.095))
    inputs, results = _snapshot(arms, [CONVERSION, ARPU])
    econ = experiment_economics(
        kind="pricing",
        results=results,
        inputs=inputs,
        metrics=[CONVERSION, ARPU],
        payloads={
            "control": {"plans": {"free": 0, "pro": 29, "premium": 59}},
            "treatment": {"plans": {"free": 0, "pro": 39, "premium": 59}},
        },
    )
    (be,) = econ.break_even
    assert (be.control_price, be.variant_price, be.price_path) == (29, 39, "plans.pro")
    assert be.price_source == PAYLOAD
    assert be.break_even == pytest.approx(29 / 39 - 1)  # -25.6%
    rates = [arms[k]["paid_conversion"].mean() for k in ("control", "treatment")]
    assert be.observed.value == pytest.approx(rates[1] / rates[0] - 1, rel=1e-9)
    assert be.observed.low > be.break_even
    assert be.verdict == ABOVE


def test_economics__conversion_halves__below_break_even() -> None:
    arms = _arms(3, 20000, (0.10, 0.05))
    inputs, results = _snapshot(arms, [CONVERSION])
    econ = experiment_economics(
        kind="pricing",
        results=results,
        inputs=inputs,
        metrics=[CONVERSION],
        payloads={"control": {"price": 29}, "treatment": {"price": 39, "plan": "pro"}},
    )
    (be,) = econ.break_even
    assert be.observed.high < be.break_even and be.verdict == BELOW


def test_economics__small_sample__interval_straddles_break_even__unclear() -> None:
    arms = _arms(4, 300, (0.10, 0.08))
    inputs, results = _snapshot(arms, [CONVERSION])
    econ = experiment_economics(
        kind="pricing",
        results=results,
        inputs=inputs,
        metrics=[CONVERSION],
        payloads={"control": {"price": 29}, "treatment": {"price": 39}},
    )
    (be,) = econ.break_even
    assert be.observed.low < be.break_even < be.observed.high
    assert be.verdict == UNCLEAR


def test_economics__no_price_in_payloads__ratio_of_revenue_per_converter() -> None:
    arms = _arms(5, 5000, (0.08, 0.07))
    inputs, results = _snapshot(arms, [CONVERSION, ARPU])
    econ = experiment_economics(
        kind="pricing",
        results=results,
        inputs=inputs,
        metrics=[CONVERSION, ARPU],
        payloads={"control": {"flow": "a"}, "treatment": {"flow": "b"}},
    )
    (be,) = econ.break_even
    per = {k: a["arpu"].sum() / a["paid_conversion"].sum() for k, a in arms.items()}
    assert be.price_source == REVENUE_PER_CONVERTER
    assert be.ratio == pytest.approx(per["treatment"] / per["control"], rel=1e-9)
    assert be.break_even == pytest.approx(per["control"] / per["treatment"] - 1, rel=1e-9)


def test_payload_prices__ambiguous_or_missing__none() -> None:
    assert payload_prices({"a": 1, "b": 2}, {"a": 3, "b": 4}) is None
    assert payload_prices({"annual": False}, {"annual": True, "annual_price": 290}) is None
    assert payload_prices({"price": 29, "n": 1}, {"price": 39, "n": 2}) == (29, 39, "price")


def test_economics__promotion_without_net_metric__revenue_minus_cost_conservative() -> None:
    arms = _arms(6, 6000, (0.06, 0.075), coupon=10.0)
    metrics = [CONVERSION, ARPU, COST]
    inputs, results = _snapshot(arms, metrics)
    econ = experiment_economics(
        kind="promotion", results=results, inputs=inputs, metrics=metrics, payloads={}
    )
    assert econ.net_method == REVENUE_MINUS_COST
    by = {n.variant: n for n in econ.net}
    for key, arm in arms.items():
        rev, cost = arm["arpu"], arm["coupon_cost"]
        assert by[key].net.value == pytest.approx(rev.mean() - cost.mean(), rel=1e-12)
        assert by[key].cost.value == pytest.approx(cost.mean(), rel=1e-12)
    t, c = arms["treatment"], arms["control"]

    def se(a: np.ndarray) -> float:
        return a.std(ddof=1) / math.sqrt(len(a))

    bound = math.hypot(se(t["arpu"]) + se(t["coupon_cost"]), se(c["arpu"]) + se(c["coupon_cost"]))
    diff = by["treatment"].diff
    expected = t["net_revenue"].mean() - c["net_revenue"].mean()
    assert diff.value == pytest.approx(expected, rel=1e-9)
    assert diff.high - diff.value == pytest.approx(Z * bound, rel=1e-9)
    # Conservative: it holds the exact Welch interval of the per-user net revenue.
    _, low, high = _welch(t["net_revenue"], c["net_revenue"])
    assert diff.low <= low and diff.high >= high


def test_economics__promotion_with_net_metric__engine_interval_of_per_user_net() -> None:
    arms = _arms(7, 6000, (0.06, 0.075), coupon=10.0)
    metrics = [CONVERSION, NET, COST, REFUNDS]
    arms = {k: a | {"refund_rate": np.zeros_like(a["arpu"])} for k, a in arms.items()}
    inputs, results = _snapshot(arms, metrics)
    econ = experiment_economics(
        kind="promotion", results=results, inputs=inputs, metrics=metrics, payloads={}
    )
    assert econ.net_method == NET_METRIC and econ.revenue_metric is None
    t, c = arms["treatment"], arms["control"]
    diff, low, high = _welch(t["net_revenue"], c["net_revenue"])
    got = {n.variant: n for n in econ.net}["treatment"].diff
    assert (got.value, got.low, got.high) == (
        pytest.approx(diff, rel=1e-9),
        pytest.approx(low, rel=1e-6),
        pytest.approx(high, rel=1e-6),
    )
    treated = {i.variant: i for i in econ.impacts}["treatment"]
    assert treated.net_revenue.value == pytest.approx(1000 * t["net_revenue"].mean())
    assert treated.net_revenue_diff.low == pytest.approx(1000 * low, rel=1e-6)


def test_economics__under_a_day_of_running__no_daily_rate() -> None:
    arms = _arms(9, 500, (0.1, 0.1))
    inputs, results = _snapshot(arms, [CONVERSION])
    early = replace(inputs, as_of=(START + dt.timedelta(hours=3)).isoformat())
    econ = experiment_economics(
        kind="pricing", results=results, inputs=early, metrics=[CONVERSION], payloads={}
    )
    assert econ.days == pytest.approx(3 / 24) and econ.daily_users is None
    assert econ.impacts[1].revenue_diff_daily is None


def test_economics__other_kinds_or_no_money_metrics__none() -> None:
    arms = _arms(8, 200, (0.1, 0.1))
    inputs, results = _snapshot(arms, [CONVERSION])
    common = {"results": results, "inputs": inputs, "payloads": {}}
    assert experiment_economics(kind="onboarding", metrics=[CONVERSION], **common) is None
    assert experiment_economics(kind="pricing", metrics=[], **common) is None


def test_economic_metrics__demo_coupon_definitions__net_and_cost_found() -> None:
    aov = MetricDefinition("aov", "AOV", "ratio", "")
    assert economic_metrics([CONVERSION, aov, NET, COST, REFUNDS]) == (
        CONVERSION,
        None,
        NET,
        COST,
    )
    assert economic_metrics([REFUNDS, ARPU, CONVERSION]) == (CONVERSION, ARPU, None, None)
