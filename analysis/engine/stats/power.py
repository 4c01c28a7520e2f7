"""Planning: sample size per arm, minimum detectable effect, expected duration.

All tests are two-sided with equal allocation between the two arms compared.

* Proportions: statsmodels ``samplesize_proportions_2indep_onetail`` (agrees with R's
  ``power.prop.test``: 0.5 vs 0.75 at power 0.9 needs 76.71 units per arm).
* Means (and ratios, given the delta-method unit standard deviation): R's ``power.t.test``
  (two-sample, two-sided, ``strict = FALSE``): with ν = 2(n − 1) and d = (treatment_value −
  baseline) / std, power = P(T' > t_{1−α/2, ν}) for T' noncentral t with ν degrees of
  freedom and noncentrality √(n/2)·d (d = 1 at power 0.9 needs 22.02 units per arm).  The
  equation is solved for the noncentrality (an O(1) number) to 1e-13, so the answer stays
  accurate at any n up to ``MAX_UNITS_PER_ARM``; statsmodels' solver drifts by 0.15% at 1e7
  units per arm and fails beyond 1e11.

Answers beyond ``MAX_UNITS_PER_ARM`` units per arm are refused with ValueError.
"""

from __future__ import annotations

import math
import numbers

from scipy import stats as sps
from scipy.optimize import brentq
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

PROPORTION_METRICS = ("proportion", "conversion", "retention")
MEAN_METRICS = ("mean", "ratio")
MAX_UNITS_PER_ARM = 1e12  # beyond any real experiment; the planning formulas stop here


def _t_test_power(n: float, noncentrality: float, alpha: float) -> float:
    """power.t.test's power (two-sample, two-sided, strict = FALSE) at n per arm."""
    dof = 2.0 * (n - 1.0)
    return float(sps.nct.sf(sps.t.isf(alpha / 2.0, dof), dof, noncentrality))


def _noncentrality(n: float, alpha: float, power: float) -> float:
    """The noncentrality √(n/2)·d at which a two-sample t-test with n per arm has ``power``."""
    high = float(sps.norm.isf(alpha / 2.0) + sps.norm.isf(1.0 - power)) + 1.0
    while _t_test_power(n, high, alpha) < power:
        high *= 2.0
    return float(
        brentq(lambda lam: _t_test_power(n, lam, alpha) - power, 0.0, high, xtol=1e-13, rtol=1e-15)
    )


def _mean_sample_size(fn: str, d: float, alpha: float, power: float) -> float:
    """n per arm with √(n/2)·|d| equal to the noncentrality that n needs (at least 2)."""

    def gap(n: float) -> float:
        return math.sqrt(n / 2.0) * d - _noncentrality(n, alpha, power)

    if gap(MAX_UNITS_PER_ARM) < 0:
        raise ValueError(
            f"{fn}: the difference is {d:.3g} standard deviations; detecting it needs more "
            f"than {MAX_UNITS_PER_ARM:.0e} units per arm"
        )
    if gap(2.0) >= 0:
        return 2.0
    return float(brentq(gap, 2.0, MAX_UNITS_PER_ARM, xtol=1e-12, rtol=1e-14))


def _real(fn: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{fn}: {name} must be a finite number, got {value!r}")
    return float(value)


def _kind(fn: str, metric: str) -> str:
    if metric in PROPORTION_METRICS:
        return "proportion"
    if metric in MEAN_METRICS:
        return "mean"
    raise ValueError(
        f"{fn}: metric must be one of {PROPORTION_METRICS + MEAN_METRICS}, got {metric!r}"
    )


def _check_levels(fn: str, alpha: float, power: float) -> None:
    for name, value in (("alpha", alpha), ("power", power)):
        if not 0.0 < _real(fn, name, value) < 1.0:
            raise ValueError(f"{fn}: {name} must be in (0, 1), got {value!r}")
    if power <= alpha:
        raise ValueError(f"{fn}: power must be greater than alpha, got {power!r}")


def _check_proportion(fn: str, name: str, value: float) -> None:
    if not 0.0 < _real(fn, name, value) < 1.0:
        raise ValueError(f"{fn}: {name} must be a proportion in (0, 1), got {value!r}")


def _check_std(fn: str, std: float | None) -> float:
    if std is None:
        raise ValueError(f"{fn}: std is required for mean and ratio metrics")
    if _real(fn, "std", std) <= 0:
        raise ValueError(f"{fn}: std must be > 0, got {std!r}")
    return float(std)


def _proportion_sample_size(
    baseline: float, treatment_value: float, alpha: float, power: float
) -> float:
    return float(
        samplesize_proportions_2indep_onetail(
            treatment_value - baseline, baseline, power, ratio=1, alpha=alpha
        )
    )


def sample_size(
    metric: str,
    baseline: float,
    treatment_value: float,
    *,
    std: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Units needed per arm to detect ``baseline`` -> ``treatment_value`` (two-sided).

    ``metric`` is "proportion" (alias "conversion", "retention") or "mean" (alias "ratio",
    which needs ``std``: the unit-level standard deviation).  Round the result up.
    """
    fn = "sample_size"
    kind = _kind(fn, metric)
    _check_levels(fn, alpha, power)
    _real(fn, "baseline", baseline)
    _real(fn, "treatment_value", treatment_value)
    if treatment_value == baseline:
        raise ValueError(f"{fn}: treatment_value must differ from baseline")
    if kind == "proportion":
        _check_proportion(fn, "baseline", baseline)
        _check_proportion(fn, "treatment_value", treatment_value)
        n = _proportion_sample_size(baseline, treatment_value, alpha, power)
    else:
        d = abs(treatment_value - baseline) / _check_std(fn, std)
        n = _mean_sample_size(fn, d, alpha, power)
    if not math.isfinite(n) or n > MAX_UNITS_PER_ARM:
        raise ValueError(
            f"{fn}: detecting {baseline!r} -> {treatment_value!r} needs more than "
            f"{MAX_UNITS_PER_ARM:.0e} units per arm"
        )
    return float(n)


def minimum_detectable_effect(
    metric: str,
    baseline: float,
    n: float,
    *,
    std: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Smallest absolute lift (treatment_value − baseline > 0) detectable with ``n`` per arm.

    The inverse of ``sample_size``: ``sample_size(metric, baseline, baseline + mde, ...)``
    equals ``n``.  Divide by ``baseline`` for the relative MDE.  Raises ValueError when ``n``
    is too small to detect any lift that keeps a proportion below 1.
    """
    fn = "minimum_detectable_effect"
    kind = _kind(fn, metric)
    _check_levels(fn, alpha, power)
    if not 2 <= _real(fn, "n", n) <= MAX_UNITS_PER_ARM:
        raise ValueError(f"{fn}: n must be in [2, {MAX_UNITS_PER_ARM:.0e}], got {n!r}")
    if kind == "mean":
        _real(fn, "baseline", baseline)
        std_value = _check_std(fn, std)
        n = float(n)
        return _noncentrality(n, alpha, power) * math.sqrt(2.0 / n) * std_value
    _check_proportion(fn, "baseline", baseline)

    def gap(diff: float) -> float:
        return _proportion_sample_size(baseline, baseline + diff, alpha, power) - n

    top = (1.0 - baseline) * (1.0 - 1e-9)
    if gap(top) > 0:
        raise ValueError(
            f"{fn}: n={n} per arm cannot detect any lift from baseline {baseline} at power {power}"
        )
    low = 1e-12
    if gap(low) <= 0:
        return low
    return float(brentq(gap, low, top, xtol=1e-12, rtol=1e-12))


def expected_duration_days(
    units_per_arm: float, daily_units: float, *, arms: int = 2, coverage: float = 1.0
) -> float:
    """Days until every arm has ``units_per_arm`` units, with equal weights.

    ``daily_units`` is the number of new eligible units per day and ``coverage`` the share
    of them that enters the experiment.  Round up to whole days (or weeks) when planning.
    """
    fn = "expected_duration_days"
    if _real(fn, "units_per_arm", units_per_arm) < 0:
        raise ValueError(f"{fn}: units_per_arm must be >= 0, got {units_per_arm!r}")
    if _real(fn, "daily_units", daily_units) <= 0:
        raise ValueError(f"{fn}: daily_units must be > 0, got {daily_units!r}")
    if isinstance(arms, bool) or not isinstance(arms, numbers.Integral) or arms < 2:
        raise ValueError(f"{fn}: arms must be an integer >= 2, got {arms!r}")
    if not 0.0 < _real(fn, "coverage", coverage) <= 1.0:
        raise ValueError(f"{fn}: coverage must be in (0, 1], got {coverage!r}")
    return float(units_per_arm) * int(arms) / (float(daily_units) * float(coverage))
