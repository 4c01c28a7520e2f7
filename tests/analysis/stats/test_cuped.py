import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis.engine.stats import MeanStats, compare, pooled_theta

from .raw import mean_stats


def _experiment(rng, n_c=2000, n_t=2100, rho=0.8, lift=0.3):
    """Pre-period x and post-period y with correlation about rho."""
    x_c, x_t = rng.normal(10, 2, n_c), rng.normal(10, 2, n_t)
    noise = 2 * math.sqrt(1 - rho**2)
    y_c = 5 + rho * x_c + rng.normal(0, noise, n_c)
    y_t = 5 + lift + rho * x_t + rng.normal(0, noise, n_t)
    return y_c, x_c, y_t, x_t


def _pooled_ols_slope(y_c, x_c, y_t, x_t):
    y, x = np.concatenate([y_c, y_t]), np.concatenate([x_c, x_t])
    design = np.column_stack([np.ones_like(x), x])
    return np.linalg.lstsq(design, y, rcond=None)[0][1]


def test_pooled_theta__raw_arrays__equals_pooled_ols_slope(rng):
    y_c, x_c, y_t, x_t = _experiment(rng)
    theta = pooled_theta(mean_stats(y_c, x_c), mean_stats(y_t, x_t))
    assert theta == pytest.approx(_pooled_ols_slope(y_c, x_c, y_t, x_t), rel=1e-9)


def test_compare_cuped_absolute__raw_arrays__equals_welch_on_adjusted_unit_values(rng):
    y_c, x_c, y_t, x_t = _experiment(rng)
    theta = _pooled_ols_slope(y_c, x_c, y_t, x_t)
    adj_c, adj_t = y_c - theta * x_c, y_t - theta * x_t
    ref = sps.ttest_ind(adj_t, adj_c, equal_var=False)
    r = compare(mean_stats(y_c, x_c), mean_stats(y_t, x_t), relative=False)
    assert r.effect == pytest.approx(adj_t.mean() - adj_c.mean(), rel=1e-9)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-300)
    assert r.ci == pytest.approx(ref.confidence_interval(0.95), rel=1e-8)
    unadjusted = y_c.var(ddof=1) / y_c.size + y_t.var(ddof=1) / y_t.size
    adjusted = adj_c.var(ddof=1) / adj_c.size + adj_t.var(ddof=1) / adj_t.size
    assert r.variance_reduction == pytest.approx(1 - adjusted / unadjusted, rel=1e-9)
    assert r.variance_reduction == pytest.approx(0.8**2, abs=0.05)


def test_compare_cuped_relative__raw_arrays__matches_linear_combination_variance(rng):
    y_c, x_c, y_t, x_t = _experiment(rng)
    theta = _pooled_ols_slope(y_c, x_c, y_t, x_t)
    yc, yt = y_c.mean(), y_t.mean()
    diff = (y_t - theta * x_t).mean() - (y_c - theta * x_c).mean()
    # Var of the estimate: treatment part is Var(y - θx)/n_T; the control part is the
    # variance of the unit-level linear combination y·(ȳ_T/ȳ_C) − θx, over n_C.
    var = (y_t - theta * x_t).var(ddof=1) / (y_t.size * yc**2) + (y_c * yt / yc - theta * x_c).var(
        ddof=1
    ) / (y_c.size * yc**2)
    r = compare(mean_stats(y_c, x_c), mean_stats(y_t, x_t))
    assert r.effect == pytest.approx(diff / abs(yc), rel=1e-9)
    assert r.stderr == pytest.approx(math.sqrt(var), rel=1e-8)
    assert (r.control_mean, r.treatment_mean) == pytest.approx((yc, yt), rel=1e-12)
    plain = compare(mean_stats(y_c), mean_stats(y_t))
    assert r.variance_reduction == pytest.approx(1 - r.stderr**2 / plain.stderr**2, rel=1e-9)


def test_compare_cuped__pre_period_only_in_one_arm__no_adjustment(rng):
    y_c, x_c, y_t, _ = _experiment(rng)
    r = compare(mean_stats(y_c, x_c), mean_stats(y_t))
    plain = compare(mean_stats(y_c), mean_stats(y_t))
    assert r.variance_reduction == 0.0 and r.stderr == plain.stderr


def test_compare_cuped__constant_pre_period__theta_zero_and_no_reduction(rng):
    y_c, y_t = rng.normal(size=300), rng.normal(size=300)
    c = mean_stats(y_c, np.ones_like(y_c))
    t = mean_stats(y_t, np.ones_like(y_t))
    assert pooled_theta(c, t) == 0.0
    r = compare(c, t, relative=False)
    assert r.variance_reduction == pytest.approx(0.0, abs=1e-12)
    assert r.p_value == pytest.approx(sps.ttest_ind(y_t, y_c, equal_var=False).pvalue)


def test_compare_cuped__sequential_and_bayesian__use_adjusted_stderr(rng):
    y_c, x_c, y_t, x_t = _experiment(rng)
    c, t = mean_stats(y_c, x_c), mean_stats(y_t, x_t)
    freq = compare(c, t)
    for method in ("sequential", "bayesian"):
        r = compare(c, t, method=method)
        assert r.variance_reduction == freq.variance_reduction
        assert r.stderr == pytest.approx(freq.stderr)


def test_mean_stats__cuped_fields_round_trip_and_add():
    s = MeanStats(3, 6.0, 14.0, 3.0, 5.0, 8.0)
    assert s.has_pre and (s + s).cross_sum == 16.0
