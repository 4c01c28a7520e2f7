"""Numerical edges of the statistics engine (issue 11, section 3).

Every expected value is computed here from the raw data with numpy/scipy, or from R's
``power.t.test`` equation re-implemented with scipy; never from the engine itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps
from scipy.optimize import brentq

from analysis.engine.stats import (
    MeanStats,
    ProportionStats,
    RatioStats,
    compare,
    minimum_detectable_effect,
    sample_size,
    stats_from_dict,
)
from tests.analysis.stats.raw import mean_stats

INTERVALS = ("fieller", "log", "delta")


def _shifted_mean_stats(y: np.ndarray, shift: float, x=None, pre_shift: float = 0.0) -> MeanStats:
    """What ``SUM(y - :shift)``, ``SUM((y - :shift)^2)``, ... would return."""
    dy = np.asarray(y, dtype=float) - shift
    if x is None:
        return MeanStats(
            n=dy.size, sum=float(dy.sum()), sum_squares=float((dy * dy).sum()), shift=shift
        )
    dx = np.asarray(x, dtype=float) - pre_shift
    return MeanStats(
        n=dy.size,
        sum=float(dy.sum()),
        sum_squares=float((dy * dy).sum()),
        pre_sum=float(dx.sum()),
        pre_sum_squares=float((dx * dx).sum()),
        cross_sum=float((dx * dy).sum()),
        shift=shift,
        pre_shift=pre_shift,
    )


def _chunks(y: np.ndarray, parts: int, x=None) -> list[MeanStats]:
    """One shifted statistic per "day", each shifted by its own first value."""
    out = []
    for i, part in enumerate(np.array_split(np.arange(y.size), parts)):
        pre = None if x is None else x[part]
        pre_shift = 0.0 if x is None else float(x[part][0])
        out.append(_shifted_mean_stats(y[part], float(y[part][0]) + i, pre, pre_shift))
    return out


# --- a relative effect with |control mean| below ~1e-154 ---------------------------------


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
@pytest.mark.parametrize(
    "control",
    [
        MeanStats(n=10, sum=1e-160, sum_squares=1e-300),  # noisy around 0
        MeanStats(n=10, sum=1e-159, sum_squares=1.1e-319),  # every unit near 1e-160
    ],
)
def test_compare_relative__control_mean_below_1e_154__zero_control_mean_status(
    interval, method, control
):
    treatment = MeanStats(n=10, sum=5.0, sum_squares=10.0)
    result = compare(control, treatment, method=method, relative_interval=interval)
    assert result.status == "zero_control_mean"
    assert result.effect is None and result.ci is None
    assert result.control_mean == pytest.approx(control.sum / 10)


def test_compare_absolute__control_mean_below_1e_154__difference_of_means():
    control = MeanStats(n=10, sum=1e-159, sum_squares=1.1e-319)
    treatment = MeanStats(n=10, sum=5.0, sum_squares=10.0)
    result = compare(control, treatment, relative=False)
    assert result.status == "ok"
    assert result.effect == pytest.approx(0.5 - 1e-160, rel=1e-12)


def test_compare_relative__tiny_but_consistent_scale__same_as_unit_scale_data(rng):
    # All values times 1e-150: the relative effect does not depend on the scale.
    c, t = rng.normal(1.0, 0.2, 400), rng.normal(1.1, 0.2, 400)
    scale = 1e-150
    small = compare(mean_stats(c * scale), mean_stats(t * scale), relative_interval="delta")
    ref = (t.mean() - c.mean()) / c.mean()
    assert small.status == "ok"
    assert small.effect == pytest.approx(ref, rel=1e-9)


# --- a unit variance above ~1e154 --------------------------------------------------------


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
def test_compare__unit_variance_above_1e154__no_overflow(rng, method):
    c, t = rng.normal(0, 1e80, 50), rng.normal(3e79, 1e80, 50)
    result = compare(mean_stats(c), mean_stats(t), relative=False, method=method)
    assert result.status == "ok"
    assert all(math.isfinite(v) for v in result.ci)


def test_compare_absolute__unit_variance_above_1e154__welch_equals_scipy_on_rescaled_data(rng):
    scale = 1e80  # variances near 1e160: their squares overflow a float
    c, t = rng.normal(0, 1, 50), rng.normal(0.6, 2, 70)
    result = compare(mean_stats(c * scale), mean_stats(t * scale), relative=False)
    # Welch's t and ν do not depend on the scale, so scipy on the unscaled data is the reference.
    ref = sps.ttest_ind(t, c, equal_var=False)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert result.dof == pytest.approx(ref.df, rel=1e-9)
    assert result.effect == pytest.approx((t.mean() - c.mean()) * scale, rel=1e-9)


# --- a negative denominator sum in a ratio -----------------------------------------------


def test_ratio_stats__negative_denominator_sum__value_error_names_field():
    with pytest.raises(ValueError, match=r"RatioStats\.denominator_sum must be >= 0"):
        RatioStats(
            n=100,
            numerator_sum=50.0,
            numerator_sum_squares=100.0,
            denominator_sum=-100.0,
            denominator_sum_squares=200.0,
            numerator_denominator_sum=-60.0,
        )


# --- n=True ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: ProportionStats(n=True, conversions=0),
        lambda: ProportionStats(n=5, conversions=True),
        lambda: ProportionStats(n=np.True_, conversions=0),
        lambda: MeanStats(n=True, sum=1.0, sum_squares=1.0),
        lambda: RatioStats(
            n=True,
            numerator_sum=1.0,
            numerator_sum_squares=1.0,
            denominator_sum=1.0,
            denominator_sum_squares=1.0,
            numerator_denominator_sum=1.0,
        ),
    ],
)
def test_stats__bool_count__value_error(build):
    with pytest.raises(ValueError, match=r"\.(n|conversions) must be an integer"):
        build()


# --- sample_size("mean", 0, 1e-9, std=1) -------------------------------------------------


def test_sample_size_mean__difference_of_1e_9_std__value_error_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="units per arm"):
            sample_size("mean", 0.0, 1e-9, std=1.0)


# --- minimum_detectable_effect for means against R ---------------------------------------


def _r_power_t_test_delta(n: float, *, sd: float, alpha: float, power: float) -> float:
    """R's ``power.t.test(n=n, sd=sd, sig.level=alpha, power=power)$delta``, re-implemented.

    R (stats/R/power.R), two-sample, two-sided, strict = FALSE:
        nu <- (n - 1) * 2;  qu <- qt(sig.level/2, nu, lower = FALSE)
        power = pt(qu, nu, ncp = sqrt(n/2) * delta/sd, lower = FALSE)
    solved here for delta with scipy's noncentral t and brentq, to a relative 1e-14.
    """
    nu = 2.0 * (n - 1.0)
    qu = sps.t.isf(alpha / 2.0, nu)

    def f(delta: float) -> float:
        return sps.nct.sf(qu, nu, math.sqrt(n / 2.0) * delta / sd) - power

    hi = 20.0 * sd / math.sqrt(n / 2.0)
    return brentq(f, 0.0, hi, xtol=1e-300, rtol=1e-14)


def _normal_limit_delta(n: float, *, sd: float, alpha: float, power: float) -> float:
    """The n -> ∞ limit of the same equation: δ = sd·√(2/n)·(z_{1−α/2} + z_power)."""
    return sd * math.sqrt(2.0 / n) * (sps.norm.isf(alpha / 2.0) + sps.norm.ppf(power))


@pytest.mark.parametrize("n", [30.0, 1e3, 1e5, 1e7, 1e8, 1e9, 1e10])
@pytest.mark.parametrize(("alpha", "power"), [(0.05, 0.8), (0.01, 0.9)])
def test_minimum_detectable_effect_mean__large_n__within_1e_6_of_r(n, alpha, power):
    mde = minimum_detectable_effect("mean", 5.0, n, std=2.5, alpha=alpha, power=power)
    ref = _r_power_t_test_delta(n, sd=2.5, alpha=alpha, power=power)
    assert mde == pytest.approx(ref, rel=1e-6)
    if n >= 1e9:  # the t and normal answers coincide this far out
        assert mde == pytest.approx(
            _normal_limit_delta(n, sd=2.5, alpha=alpha, power=power), rel=1e-6
        )


def test_sample_size_mean__r_documented_power__n_20():
    # R: power.t.test(n = 20, delta = 1) -> power = 0.8689528
    assert sample_size("mean", 0.0, 1.0, std=1.0, power=0.8689528) == pytest.approx(20, rel=1e-5)


@pytest.mark.parametrize("n", [1e4, 1e8, 1e10])
def test_sample_size_mean__mde_at_large_n__gives_back_n(n):
    mde = minimum_detectable_effect("mean", 0.0, n, std=1.0)
    assert sample_size("mean", 0.0, mde, std=1.0) == pytest.approx(n, rel=1e-8)


def test_minimum_detectable_effect__n_above_limit__value_error():
    with pytest.raises(ValueError, match="n must be in"):
        minimum_detectable_effect("mean", 0.0, 1e13, std=1.0)


# --- sums like 1e8 + N(0, 1) -------------------------------------------------------------


def _welch_se(c: np.ndarray, t: np.ndarray) -> float:
    """Reference SE of the difference: numpy's two-pass variances (centred data)."""
    return math.sqrt(np.var(c, ddof=1) / c.size + np.var(t, ddof=1) / t.size)


def test_compare__values_near_1e8_with_plain_sums__se_is_wrong(rng):
    # The defect the shift fixes: Σy² − (Σy)²/n cancels ~16 digits.
    c, t = 1e8 + rng.normal(0, 1, 10_000), 1e8 + rng.normal(0.05, 1, 10_000)
    plain = compare(mean_stats(c), mean_stats(t), relative=False)
    assert abs(plain.stderr / _welch_se(c, t) - 1.0) > 1e-3


def test_compare__values_near_1e8_shifted_daily_sums__se_within_1e_9(rng):
    c, t = 1e8 + rng.normal(0, 1, 10_000), 1e8 + rng.normal(0.05, 1, 10_000)
    control, treatment = sum(_chunks(c, 7)), sum(_chunks(t, 10))
    result = compare(control, treatment, relative=False)
    assert result.stderr == pytest.approx(_welch_se(c, t), rel=1e-9)
    # y − 1e8 is exact (Sterbenz), so the centred means carry no rounding to the 1e8 grid
    assert result.effect == pytest.approx((t - 1e8).mean() - (c - 1e8).mean(), rel=1e-9)
    assert result.control_mean == pytest.approx(c.mean(), rel=1e-15)
    ref = sps.ttest_ind(t - 1e8, c - 1e8, equal_var=False)
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-8)


def test_compare_cuped__values_near_1e8_shifted__matches_numpy_adjustment(rng):
    n = 5_000
    xc, xt = 1e8 + rng.normal(0, 1, n), 1e8 + rng.normal(0, 1, n)
    yc = 2e8 + 0.8 * (xc - 1e8) + rng.normal(0, 0.5, n)
    yt = 2e8 + 0.8 * (xt - 1e8) + rng.normal(0.03, 0.5, n)
    result = compare(sum(_chunks(yc, 4, xc)), sum(_chunks(yt, 3, xt)), relative=False)
    # centred copies (exact: Sterbenz), so that the reference is not rounded to the 1e8 grid
    yc, yt, xc, xt = yc - 2e8, yt - 2e8, xc - 1e8, xt - 1e8
    y, x = np.concatenate([yc, yt]), np.concatenate([xc, xt])
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
    adj_c, adj_t = yc - theta * xc, yt - theta * xt
    assert result.effect == pytest.approx(adj_t.mean() - adj_c.mean(), rel=1e-9)
    assert result.stderr == pytest.approx(_welch_se(adj_c, adj_t), rel=1e-9)


def _ratio_stats(m: np.ndarray, d: np.ndarray, shift: float) -> RatioStats:
    dm = m - shift
    return RatioStats(
        n=m.size,
        numerator_sum=float(dm.sum()),
        numerator_sum_squares=float((dm * dm).sum()),
        denominator_sum=float(d.sum()),
        denominator_sum_squares=float((d * d).sum()),
        numerator_denominator_sum=float((dm * d).sum()),
        numerator_shift=shift,
    )


def test_compare_ratio__numerators_near_1e8_shifted__se_within_1e_9(rng):
    # Revenue per session with two sessions per unit: the ratio's variance is that of M.
    mc, mt = 1e8 + rng.normal(0, 1, 8_000), 1e8 + rng.normal(0.05, 1, 8_000)
    dc, dt = np.full(mc.size, 2.0), np.full(mt.size, 2.0)
    ref_se = _welch_se(mc / 2.0, mt / 2.0)
    plain = compare(_ratio_stats(mc, dc, 0.0), _ratio_stats(mt, dt, 0.0), relative=False)
    assert abs(plain.stderr / ref_se - 1.0) > 1e-3
    shifted = compare(_ratio_stats(mc, dc, 1e8), _ratio_stats(mt, dt, 1e8), relative=False)
    assert shifted.stderr == pytest.approx(ref_se, rel=1e-9)
    assert shifted.effect == pytest.approx((mt.mean() - mc.mean()) / 2.0, rel=1e-9)


def test_mean_stats__added_with_different_shifts__equal_to_one_shift_over_all_units(rng):
    y = 1e8 + rng.normal(0, 1, 3_000)
    x = 5e7 + rng.normal(0, 1, 3_000)
    total = sum(_chunks(y, 5, x))
    one = _shifted_mean_stats(y, total.shift, x, total.pre_shift)
    for field in ("sum", "sum_squares", "pre_sum", "pre_sum_squares", "cross_sum"):
        assert getattr(total, field) == pytest.approx(getattr(one, field), rel=1e-9, abs=1e-6)


def test_stats__unshifted__dict_has_no_shift_keys_and_old_dicts_still_load():
    old = {"kind": "mean", "n": 3, "sum": 6.0, "sum_squares": 14.0}
    stats = stats_from_dict(old)
    assert stats.to_dict() == {**old, "pre_sum": None, "pre_sum_squares": None, "cross_sum": None}
    assert compare(stats, stats, relative=False).control_mean == 2.0


def test_stats__shifted__json_round_trip_keeps_shift():
    stats = MeanStats(n=3, sum=0.0, sum_squares=2.0, shift=1e8)
    again = stats_from_dict(stats.to_dict())
    assert again == stats
    assert compare(again, again, relative=False).control_mean == 1e8
