import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis.engine.stats import compare

from .raw import mean_stats


def _reference(effect, se, n_total, alpha, tuning):
    """Waudby-Smith et al. asymptotic confidence sequence, written out from the issue."""
    rho = math.sqrt((-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / tuning)
    s2 = se**2 * n_total
    n = n_total
    half = math.sqrt(s2) * math.sqrt(
        2 * (n * rho**2 + 1) / (n**2 * rho**2) * math.log(math.sqrt(n * rho**2 + 1) / alpha)
    )
    z = effect / se
    e_value = math.exp(rho**2 * n * z**2 / (2 * (n * rho**2 + 1))) / math.sqrt(n * rho**2 + 1)
    return (effect - half, effect + half), min(1.0, 1.0 / e_value)


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("tuning", [1000, 5000, 50000])
def test_compare_sequential__raw_arrays__matches_closed_form(rng, relative, tuning):
    a = rng.lognormal(0.0, 1.0, 4000)
    b = rng.lognormal(0.06, 1.0, 4200)
    mc, mt = a.mean(), b.mean()
    if relative:
        effect = (mt - mc) / mc
        se = math.sqrt(b.var(ddof=1) / (b.size * mc**2) + a.var(ddof=1) * mt**2 / (a.size * mc**4))
    else:
        effect = mt - mc
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    ci, p = _reference(effect, se, a.size + b.size, 0.05, tuning)
    r = compare(
        mean_stats(a),
        mean_stats(b),
        method="sequential",
        relative=relative,
        sequential_tuning=tuning,
        relative_interval="delta",
    )
    assert r.effect == pytest.approx(effect, rel=1e-10)
    assert r.ci == pytest.approx(ci, rel=1e-9)
    assert r.p_value == pytest.approx(p, rel=1e-9)
    assert r.chance_to_win is None and r.dof is None


def test_compare_sequential__any_data__wider_than_fixed_horizon_interval(rng):
    a, b = rng.normal(0, 1, 500), rng.normal(0.1, 1, 500)
    seq = compare(mean_stats(a), mean_stats(b), method="sequential", relative=False)
    fixed = compare(mean_stats(a), mean_stats(b), relative=False)
    assert seq.ci[0] < fixed.ci[0] and seq.ci[1] > fixed.ci[1]
    assert seq.p_value >= fixed.p_value


def test_compare_sequential__many_datasets__significant_exactly_when_interval_excludes_zero():
    rng = np.random.default_rng(7)
    for _ in range(200):
        a = rng.normal(0, 1, 300)
        b = rng.normal(rng.uniform(0, 0.4), 1, 300)
        r = compare(mean_stats(a), mean_stats(b), method="sequential", relative=False)
        assert r.significant == (r.ci[0] > 0 or r.ci[1] < 0)


def test_compare_sequential__huge_z__p_value_tiny_not_overflow(rng):
    a, b = rng.normal(0, 1, 5000), rng.normal(5, 1, 5000)
    r = compare(mean_stats(a), mean_stats(b), method="sequential", relative=False)
    assert 0.0 <= r.p_value < 1e-100 and r.significant
    assert sps.norm.sf(0) == 0.5  # keeps the scipy import meaningful for readers


def test_compare__non_positive_tuning__value_error_names_sequential_tuning():
    a = mean_stats(np.arange(5.0))
    with pytest.raises(ValueError, match="sequential_tuning must be"):
        compare(a, a, method="sequential", sequential_tuning=0)
