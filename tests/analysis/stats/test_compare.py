import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.proportion import test_proportions_2indep as wald_2indep

from analysis.engine.stats import MeanStats, ProportionStats, RatioStats, compare

from .raw import mean_stats, ratio_stats

# Published gbstats example (TwoSidedTTest on these two arms).
A = MeanStats(n=3407, sum=1396.87, sum_squares=52377.9767)
B = MeanStats(n=3461, sum=2422.7, sum_squares=134698.29)


def test_compare__published_example_relative__matches_published_figures():
    r = compare(A, B, relative_interval="delta")
    assert r.status == "ok"
    assert r.effect == pytest.approx(0.70732, abs=1e-5)
    assert r.ci[0] == pytest.approx(-0.03526, abs=1e-5)
    assert r.ci[1] == pytest.approx(1.44989, abs=1e-5)
    assert r.p_value == pytest.approx(0.06191, abs=1e-5)
    assert r.significant is False


def test_compare__published_example_absolute__matches_published_figures():
    r = compare(A, B, relative=False)
    assert r.effect == pytest.approx(0.29, abs=1e-9)
    assert r.ci[0] == pytest.approx(0.04538, abs=1e-5)
    assert r.ci[1] == pytest.approx(0.53462, abs=1e-5)
    assert r.p_value == pytest.approx(0.02016, abs=1e-5)
    assert r.significant is True
    assert (r.control_mean, r.treatment_mean) == pytest.approx((0.41, 0.70))


def test_compare__raw_lognormal_arrays__agrees_with_scipy_welch_ttest(rng):
    a = rng.lognormal(1.0, 1.2, size=800)
    b = rng.lognormal(1.1, 1.0, size=650)
    ref = sps.ttest_ind(b, a, equal_var=False)
    low, high = ref.confidence_interval(0.95)
    r = compare(mean_stats(a), mean_stats(b), relative=False)
    assert r.effect == pytest.approx(b.mean() - a.mean(), rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-8)
    assert r.ci == pytest.approx((low, high), rel=1e-8)
    assert r.dof == pytest.approx(ref.df, rel=1e-8)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_a=st.integers(2, 300),
    n_b=st.integers(2, 300),
    shift=st.floats(-2.0, 2.0),
    scale=st.floats(0.1, 10.0),
)
def test_compare__any_normal_arrays__agrees_with_scipy_welch_ttest(seed, n_a, n_b, shift, scale):
    rng = np.random.default_rng(seed)
    a = rng.normal(10.0, 1.0, size=n_a)
    b = rng.normal(10.0 + shift, scale, size=n_b)
    ref = sps.ttest_ind(b, a, equal_var=False)
    r = compare(mean_stats(a), mean_stats(b), relative=False)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    assert r.effect == pytest.approx(b.mean() - a.mean(), rel=1e-9, abs=1e-9)


def test_compare__relative_effect__matches_delta_method_written_from_raw_data(rng):
    a = rng.gamma(2.0, 3.0, size=1200)
    b = rng.gamma(2.0, 3.3, size=1100)
    mc, mt, vc, vt = a.mean(), b.mean(), a.var(ddof=1), b.var(ddof=1)
    effect = (mt - mc) / abs(mc)
    var = vt / (b.size * mc**2) + vc * mt**2 / (a.size * mc**4)
    nu = (vt / b.size + vc / a.size) ** 2 / (
        vt**2 / (b.size**2 * (b.size - 1)) + vc**2 / (a.size**2 * (a.size - 1))
    )
    se = math.sqrt(var)
    r = compare(mean_stats(a), mean_stats(b), relative_interval="delta")
    assert r.effect == pytest.approx(effect, rel=1e-10)
    assert r.stderr == pytest.approx(se, rel=1e-10)
    assert r.p_value == pytest.approx(2 * sps.t.sf(abs(effect / se), nu), rel=1e-8)
    half = sps.t.ppf(0.975, nu) * se
    assert r.ci == pytest.approx((effect - half, effect + half), rel=1e-9)


def test_compare__proportions__agree_with_welch_on_binary_arrays_using_p_one_minus_p(rng):
    a = (rng.random(5000) < 0.10).astype(float)
    b = (rng.random(5200) < 0.115).astype(float)
    ca, cb = int(a.sum()), int(b.sum())
    r = compare(ProportionStats(a.size, ca), ProportionStats(b.size, cb), relative=False)
    pa, pb = a.mean(), b.mean()
    va, vb = pa * (1 - pa), pb * (1 - pb)  # gbstats: population variance for proportions
    se = math.sqrt(va / a.size + vb / b.size)
    nu = (va / a.size + vb / b.size) ** 2 / (
        va**2 / (a.size**2 * (a.size - 1)) + vb**2 / (b.size**2 * (b.size - 1))
    )
    assert r.effect == pytest.approx(pb - pa)
    assert r.p_value == pytest.approx(2 * sps.t.sf(abs((pb - pa) / se), nu), rel=1e-8)
    # the statistic is statsmodels' unpooled (Wald) two-proportion test statistic
    wald = wald_2indep(cb, b.size, ca, a.size, method="wald", compare="diff")
    assert r.effect / r.stderr == pytest.approx(wald.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(wald.pvalue, rel=2e-2)


def test_compare__ratio_metric__matches_delta_method_on_raw_units(rng):
    orders_a = rng.poisson(1.5, size=3000) + 1
    orders_b = rng.poisson(1.6, size=2900) + 1
    rev_a = orders_a * rng.gamma(3.0, 10.0, size=3000)
    rev_b = orders_b * rng.gamma(3.0, 10.5, size=2900)

    def unit_variance(m, d):
        cov = np.cov(m, d, ddof=1)
        mm, md = m.mean(), d.mean()
        return cov[0, 0] / md**2 + cov[1, 1] * mm**2 / md**4 - 2 * cov[0, 1] * mm / md**3

    ra, rb = rev_a.sum() / orders_a.sum(), rev_b.sum() / orders_b.sum()
    var = unit_variance(rev_a, orders_a) / 3000 + unit_variance(rev_b, orders_b) / 2900
    r = compare(ratio_stats(rev_a, orders_a), ratio_stats(rev_b, orders_b), relative=False)
    assert (r.control_mean, r.treatment_mean) == pytest.approx((ra, rb), rel=1e-12)
    assert r.effect == pytest.approx(rb - ra, rel=1e-10)
    assert r.stderr == pytest.approx(math.sqrt(var), rel=1e-8)


def test_compare__one_unit_in_an_arm__status_too_few_units():
    r = compare(ProportionStats(1, 1), ProportionStats(100, 10))
    assert r.status == "too_few_units"
    assert r.effect is None and r.ci is None and r.p_value is None
    assert r.significant is False and r.control_mean == 1.0


def test_compare__empty_arms__status_too_few_units_with_no_means():
    r = compare(MeanStats(0, 0.0, 0.0), MeanStats(0, 0.0, 0.0), method="bayesian")
    assert r.status == "too_few_units"
    assert r.control_mean is None and r.chance_to_win is None


def test_compare__no_conversions_in_control_relative__status_zero_control_mean():
    r = compare(ProportionStats(500, 0), ProportionStats(500, 7))
    assert r.status == "zero_control_mean"


def test_compare__no_conversions_in_control_absolute__ok():
    r = compare(ProportionStats(500, 0), ProportionStats(500, 7), relative=False)
    assert r.status == "ok" and r.effect == pytest.approx(7 / 500)


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
def test_compare__constant_values_in_both_arms__status_zero_variance(method):
    r = compare(MeanStats(10, 50.0, 250.0), MeanStats(12, 60.0, 300.0), method=method)
    assert r.status == "zero_variance" and r.p_value is None


def test_compare__ratio_without_orders__status_zero_denominator():
    r = compare(RatioStats(10, 0.0, 0.0, 0.0, 0.0, 0.0), RatioStats(10, 5.0, 9.0, 2.0, 2.0, 4.0))
    assert r.status == "zero_denominator" and r.control_mean is None


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
def test_comparison_to_dict__any_status__strict_json_serialisable(method):
    for control, treatment in [(A, B), (MeanStats(1, 1.0, 1.0), B)]:
        d = compare(control, treatment, method=method).to_dict()
        text = json.dumps(d, allow_nan=False)
        assert json.loads(text) == d
        assert d["ci"] is None or isinstance(d["ci"], list)


def test_compare__mixed_statistic_kinds__value_error():
    with pytest.raises(ValueError, match="same kind of statistics"):
        compare(ProportionStats(10, 1), MeanStats(10, 1.0, 1.0))


def test_compare__unknown_method__value_error_names_method():
    with pytest.raises(ValueError, match="method must be one of"):
        compare(A, B, method="bootstrap")


@pytest.mark.parametrize("alpha", [0.0, 1.0, float("nan"), -0.1])
def test_compare__alpha_outside_unit_interval__value_error_names_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be"):
        compare(A, B, alpha=alpha)


def test_compare__non_positive_prior_variance__value_error_names_prior_variance():
    with pytest.raises(ValueError, match="prior_variance must be"):
        compare(A, B, method="bayesian", prior_variance=0.0)


def test_compare__raw_dict_instead_of_stats__value_error_names_argument():
    with pytest.raises(ValueError, match="control must be ProportionStats"):
        compare({"n": 1}, B)
