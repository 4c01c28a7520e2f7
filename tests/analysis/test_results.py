"""From inputs to results: effects against independent computations, the correction family,
Bayesian and sequential plans, segment SRM."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analysis.engine.results import results_compute
from tests.analysis.reference import mean_stats, plan, synthetic_inputs, welch_relative

VARIANTS = ("control", "b", "c")


def _arrays(seed: int, lifts: dict[str, float], n: int = 400) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {v: rng.gamma(2.0, 5.0 * (1 + lifts.get(v, 0.0)), n) for v in VARIANTS}


def _compute(metrics, p):
    inputs = synthetic_inputs(metrics, variants=VARIANTS)
    return results_compute(inputs=inputs, plan=p, computed_at="now", engine_version="test")


def _row(results, metric, variant):
    m = next(x for x in results["metrics"] if x["metric"] == metric)
    return next(r for r in m["variants"] if r["variant"] == variant)


@pytest.fixture
def data():
    return {
        "primary": _arrays(1, {"b": 0.12, "c": 0.02}),
        "second": _arrays(2, {"b": 0.05, "c": 0.10}),
        "third": _arrays(3, {}),
        "guard": _arrays(4, {"b": -0.15}),
    }


def _metrics(data):
    roles = {
        "primary": "primary",
        "second": "secondary",
        "third": "secondary",
        "guard": "guardrail",
    }
    return [
        {
            "metric": k,
            "type": "mean",
            "role": roles[k],
            "stats": {v: mean_stats(a) for v, a in d.items()},
        }
        for k, d in data.items()
    ]


def test_effects__mean_metric__match_welch_and_delta_method_on_raw_data(data) -> None:
    r = _compute(_metrics(data), plan())
    for metric, arrays in data.items():
        for v in ("b", "c"):
            ref = welch_relative(arrays["control"], arrays[v])
            row = _row(r, metric, v)
            assert row["effect"] == pytest.approx(ref["effect"], rel=1e-9)
            assert row["ci"] == pytest.approx(ref["ci"], rel=1e-9)
            assert row["p_value"] == pytest.approx(ref["p_value"], rel=1e-6)
            welch = sps.ttest_ind(arrays[v], arrays["control"], equal_var=False)
            diff = arrays[v].mean() - arrays["control"].mean()
            assert row["absolute_effect"] == pytest.approx(diff)
            assert row["mean"] == pytest.approx(arrays[v].mean())
            lo, hi = welch.confidence_interval(0.95)
            assert row["absolute_ci"] == pytest.approx([lo, hi], rel=1e-9)


@pytest.mark.parametrize(("correction", "sm_method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_correction__primary_and_secondary_family__adjusted_guardrails_apart(
    data, correction, sm_method
) -> None:
    r = _compute(_metrics(data), plan(correction=correction))
    family = [(m, v) for m in ("primary", "second", "third") for v in ("b", "c")]
    raw = [welch_relative(data[m]["control"], data[m][v])["p_value"] for m, v in family]
    expected = multipletests(raw, method=sm_method)[1]
    for (m, v), p_raw, p_adj in zip(family, raw, expected, strict=True):
        row = _row(r, m, v)
        assert row["p_value_unadjusted"] == pytest.approx(p_raw, rel=1e-6)
        assert row["p_value"] == pytest.approx(p_adj, rel=1e-6)
        assert row["significant"] == (p_adj < 0.05)
    for v in ("b", "c"):
        guard = _row(r, "guard", v)
        ref = welch_relative(data["guard"]["control"], data["guard"][v])["p_value"]
        assert guard["p_value"] == pytest.approx(ref, rel=1e-6)
        assert guard["p_value"] == guard["p_value_unadjusted"]
    corrected = {m["metric"]: m["corrected"] for m in r["metrics"]}
    assert corrected == {"primary": True, "second": True, "third": True, "guard": False}


def test_correction__none__p_values_unadjusted(data) -> None:
    r = _compute(_metrics(data), plan(correction="none"))
    row = _row(r, "second", "b")
    assert row["p_value"] == row["p_value_unadjusted"]


def test_bayesian_plan__no_p_values__chance_to_win(data) -> None:
    r = _compute(_metrics(data), plan(method="bayesian", correction="holm"))
    row = _row(r, "primary", "b")
    assert row["p_value"] is None
    assert 0.99 < row["chance_to_win"] <= 1.0
    ref = welch_relative(data["primary"]["control"], data["primary"]["b"])
    # Flat prior: the chance to win is Φ(effect / se).
    se = (ref["delta_ci"][1] - ref["delta_ci"][0]) / 2 / sps.t.ppf(0.975, 10**9)
    assert row["chance_to_win"] == pytest.approx(sps.norm.cdf(ref["effect"] / se), rel=1e-3)


def test_sequential_plan__wider_intervals_than_fixed_horizon(data) -> None:
    fixed = _row(_compute(_metrics(data), plan()), "primary", "b")
    seq = _row(_compute(_metrics(data), plan(method="sequential")), "primary", "b")
    assert seq["ci"][0] < fixed["ci"][0] and seq["ci"][1] > fixed["ci"][1]
    assert seq["p_value"] >= fixed["p_value"]


def test_srm__overall_and_segment__chi_square_against_weights() -> None:
    from analysis.engine.stats import ProportionStats

    def conv(n):
        return ProportionStats(n=n, conversions=n // 10)

    seg = {
        "attribute": "country",
        "value": "CN",
        "metric": "conv",
        "units": {"control": 300, "treatment": 200},
        "stats": {"control": conv(300).to_dict(), "treatment": conv(200).to_dict()},
    }
    inputs = synthetic_inputs(
        [{"metric": "conv", "stats": {"control": conv(1000), "treatment": conv(3100)}}],
        weights=(1.0, 3.0),
        segments=[seg],
    )
    r = results_compute(inputs=inputs, plan=plan(), computed_at="x", engine_version="t")
    expected = sps.chisquare([1000, 3100], [4100 / 4, 4100 * 3 / 4])
    assert r["srm"]["p_value"] == pytest.approx(expected.pvalue)
    assert r["srm"]["mismatch"] is False
    seg_expected = sps.chisquare([300, 200], [125, 375])
    assert r["segments"][0]["srm"]["p_value"] == pytest.approx(seg_expected.pvalue)
    assert r["segments"][0]["srm"]["mismatch"] is True
