import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from analysis.engine.stats import compare

from .raw import mean_stats


def _expected_positive_part(m, s):
    """E[max(Δ, 0)] for Δ ~ N(m, s²) by numerical integration (independent of the formula)."""
    value, _ = integrate.quad(lambda x: x * sps.norm.pdf(x, m, s), 0, np.inf)
    return value


@pytest.fixture
def arms(rng):
    a = rng.normal(10.0, 3.0, 1500)
    b = rng.normal(10.25, 3.0, 1400)
    return a, b


def test_compare_bayesian_flat_prior__raw_arrays__normal_posterior_at_the_estimate(arms):
    a, b = arms
    effect = b.mean() - a.mean()
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    r = compare(mean_stats(a), mean_stats(b), method="bayesian", relative=False)
    assert r.effect == pytest.approx(effect, rel=1e-10)
    assert r.stderr == pytest.approx(se, rel=1e-10)
    assert r.ci == pytest.approx(sps.norm.interval(0.95, effect, se), rel=1e-9)
    assert r.chance_to_win == pytest.approx(sps.norm.sf(0, effect, se), rel=1e-9)
    assert r.p_value is None
    keep_control = _expected_positive_part(effect, se)
    ship_treatment = _expected_positive_part(-effect, se)
    assert r.risk == pytest.approx((keep_control, ship_treatment), rel=1e-6, abs=1e-12)


def test_compare_bayesian_lower_is_better__raw_arrays__chance_and_risk_flip(arms):
    a, b = arms
    up = compare(mean_stats(a), mean_stats(b), method="bayesian")
    down = compare(mean_stats(a), mean_stats(b), method="bayesian", higher_is_better=False)
    assert down.chance_to_win == pytest.approx(1 - up.chance_to_win, rel=1e-12)
    assert down.risk == pytest.approx((up.risk[1], up.risk[0]), rel=1e-12)
    assert down.effect == up.effect and down.ci == up.ci


def test_compare_bayesian_proper_prior_relative__precision_weighted_posterior(arms):
    a, b = arms
    mc, mt = a.mean(), b.mean()
    effect = (mt - mc) / mc
    var = b.var(ddof=1) / (b.size * mc**2) + a.var(ddof=1) * mt**2 / (a.size * mc**4)
    prior_mean, prior_var = 0.0, 0.01**2
    post_var = 1 / (1 / var + 1 / prior_var)
    post_mean = post_var * (effect / var + prior_mean / prior_var)
    r = compare(mean_stats(a), mean_stats(b), method="bayesian", prior_variance=prior_var)
    assert r.effect == pytest.approx(post_mean, rel=1e-9)
    assert r.stderr == pytest.approx(math.sqrt(post_var), rel=1e-9)
    assert abs(r.effect) < abs(effect)  # shrunk toward the prior mean 0


def test_compare_bayesian_proper_prior_absolute__prior_scaled_by_control_mean(arms):
    a, b = arms
    mc = a.mean()
    effect = b.mean() - mc
    var = a.var(ddof=1) / a.size + b.var(ddof=1) / b.size
    prior_mean, prior_var = 0.02 * abs(mc), 0.05**2 * mc**2
    post_var = 1 / (1 / var + 1 / prior_var)
    post_mean = post_var * (effect / var + prior_mean / prior_var)
    r = compare(
        mean_stats(a),
        mean_stats(b),
        method="bayesian",
        relative=False,
        prior_mean=0.02,
        prior_variance=0.05**2,
    )
    assert r.effect == pytest.approx(post_mean, rel=1e-9)
    assert r.stderr == pytest.approx(math.sqrt(post_var), rel=1e-9)


def test_compare_bayesian__interval_excludes_zero__significant(rng):
    a, b = rng.normal(0, 1, 2000), rng.normal(0.3, 1, 2000)
    r = compare(mean_stats(a), mean_stats(b), method="bayesian", relative=False)
    assert r.significant and r.chance_to_win > 0.975


def test_compare_bayesian_proper_prior_absolute_zero_control_mean__status_not_exception():
    a = mean_stats(np.array([-1.0, 1.0, -2.0, 2.0]))
    b = mean_stats(np.array([0.0, 1.0, 2.0, 3.0]))
    r = compare(a, b, method="bayesian", relative=False, prior_variance=0.1)
    assert r.status == "zero_control_mean"
    assert compare(a, b, method="bayesian", relative=False).status == "ok"
