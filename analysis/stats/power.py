"""Planning: sample size per arm, minimum detectable effect, expected duration.

All tests are two-sided with equal allocation between the two arms compared.

* Proportions: statsmodels ``samplesize_proportions_2indep_onetail`` (agrees with R's
  ``power.prop.test``: 0.5 vs 0.75 at power 0.9 needs 76.71 units per arm).
* Means (and ratios, given the delta-method unit standard deviation): statsmodels
  ``tt_ind_solve_power`` with effect size d = (treatment_value − baseline) / std (agrees with
  R's ``power.t.test``: d = 1 at power 0.9 needs 22.02 units per arm).
"""

from __future__ import annotations

import math
import numbers

from scipy.optimize import brentq
from statsmodels.stats.power import tt_ind_solve_power
from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

PROPORTION_METRICS = ("proportion", "conversion", "retention")
MEAN_METRICS = ("mean", "ratio")


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
        n = samplesize_proportions_2indep_onetail(
            treatment_value - baseline, baseline, power, ratio=1, alpha=alpha
        )
    else:
        d = (treatment_value - baseline) / _check_std(fn, std)
        n = tt_ind_solve_power(effect_size=abs(d), alpha=alpha, power=power, ratio=1.0)
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
    if _real(fn, "n", n) < 2:
        raise ValueError(f"{fn}: n must be >= 2, got {n!r}")
    if kind == "mean":
        _real(fn, "baseline", baseline)
        std_value = _check_std(fn, std)
        d = tt_ind_solve_power(nobs1=float(n), alpha=alpha, power=power, ratio=1.0)
        return float(d) * std_value
    _check_proportion(fn, "baseline", baseline)

    def gap(diff: float) -> float:
        return sample_size(metric, baseline, baseline + diff, alpha=alpha, power=power) - n

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
