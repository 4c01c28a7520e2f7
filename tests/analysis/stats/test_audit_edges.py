"""Numerical edges found by the statistics audit (issue 25).

Every expected value is computed here from the raw data with numpy/scipy on a rescaled or
centred copy of the data; never from the engine itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from analysis.engine.stats import MeanStats, compare

SCALE = 1e156  # |μ_T·μ_C| ≈ 1e312: above the float range


def _welch(c: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """(Var of μ_C, Var of μ_T, Welch's ν) on unit-scale data."""
    vc, vt = np.var(c, ddof=1) / c.size, np.var(t, ddof=1) / t.size
    dof = (vc + vt) ** 2 / (vc**2 / (c.size - 1) + vt**2 / (t.size - 1))
    return float(vc), float(vt), float(dof)


def _huge_arms(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, MeanStats, MeanStats]:
    """Unit-scale data and the shifted sums of the same data times ``SCALE``."""
    zc, zt = rng.normal(0, 1, 200), rng.normal(0, 1, 200)
    c, t = 1.0 + 1e-4 * zc, 1.05 + 1e-4 * zt

    def stats(shift: float, z: np.ndarray) -> MeanStats:
        dev = SCALE * 1e-4 * z  # value − shift, at the huge scale
        return MeanStats(
            n=z.size, sum=float(dev.sum()), sum_squares=float((dev * dev).sum()), shift=shift
        )

    return c, t, stats(SCALE, zc), stats(1.05 * SCALE, zt)


def test_compare_relative__fieller_means_above_1e77__finite_interval_equals_unit_scale(rng):
    c, t, control, treatment = _huge_arms(rng)
    vc, vt, dof = _welch(c, t)
    k2 = sps.t.ppf(0.975, dof) ** 2
    d, n = c.mean(), t.mean()
    a, half_b, cc = d * d - k2 * vc, n * d, n * n - k2 * vt
    root = math.sqrt(half_b * half_b - a * cc)
    expected = ((half_b - root) / a - 1.0, (half_b + root) / a - 1.0)
    result = compare(control, treatment)
    assert result.status == "ok"
    assert result.ci == pytest.approx(expected, rel=1e-9)


def test_compare_relative__log_interval_means_above_1e154__no_overflow_error(rng):
    c, t, control, treatment = _huge_arms(rng)
    vc, vt, dof = _welch(c, t)
    d, n = c.mean(), t.mean()
    se = math.sqrt(vt / n**2 + vc / d**2)
    k = sps.t.ppf(0.975, dof)
    log_r = math.log(n / d)
    expected = (math.expm1(log_r - k * se), math.expm1(log_r + k * se))
    result = compare(control, treatment, relative_interval="log")
    assert result.status == "ok"
    assert result.ci == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("total", "squares"),
    [(1e300, 1.0), (-1e300, 1e200), (1e200, 1e300)],
)
def test_mean_stats__sum_squared_over_n_overflows__inconsistent_sums_refused(total, squares):
    # Σx² must be at least (Σx)²/n = 1e600 / n, far above any float: these sums cannot be.
    with pytest.raises(ValueError, match="inconsistent"):
        MeanStats(n=1, sum=total, sum_squares=squares)


def test_mean_stats__huge_consistent_sums__accepted():
    values = np.array([1e150, 3e150, 2e150])
    MeanStats(n=3, sum=float(values.sum()), sum_squares=float((values * values).sum()))


@pytest.mark.parametrize("offset", [1e9, 1e12])
def test_compare_absolute__shifted_sums_at_large_offset__effect_within_1e_12(rng, offset):
    dev_c, dev_t = rng.normal(0, 1, 5_000), rng.normal(0.01, 1, 5_000)

    def stats(dev: np.ndarray, shift: float) -> MeanStats:
        return MeanStats(
            n=dev.size, sum=float(dev.sum()), sum_squares=float((dev * dev).sum()), shift=shift
        )

    # The same shift, and shifts that differ by an exact 0.5.
    for shift_t in (offset, offset + 0.5):
        expected = (dev_t.mean() - dev_c.mean()) + (shift_t - offset)
        result = compare(stats(dev_c, offset), stats(dev_t, shift_t), relative=False)
        assert result.effect == pytest.approx(expected, rel=1e-12)
        ref = sps.ttest_ind(dev_t + (shift_t - offset), dev_c, equal_var=False)
        assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
