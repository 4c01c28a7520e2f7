"""Per-arm moments and the moments of the effect estimate (absolute or relative).

Definitions follow GrowthBook's gbstats:

* proportions: p = conversions / n, unit variance p(1 − p);
* means: μ = Σy / n, σ² = (Σy² − (Σy)²/n) / (n − 1);
* ratios: R = ΣM / ΣD with the delta-method unit variance
  σ_M²/μ_D² + σ_D²·μ_M²/μ_D⁴ − 2·σ_MD·μ_M/μ_D³.

The effect is Δ = μ_T − μ_C (absolute) or Δ/|μ_C| (relative); see ``effect_moments``.

Shifted sums (``MeanStats.shift``, ``RatioStats.numerator_shift``) give the same variances
with less cancellation; the means add the shift back.  Every formula here is arranged so
that extreme but finite inputs (variances above 1e154, control means below 1e-154) give a
finite answer or an explicit "undefined" rather than OverflowError or ZeroDivisionError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.engine.stats.inputs import ArmStats, MeanStats, ProportionStats, RatioStats


@dataclass(frozen=True)
class ArmMoments:
    """Sample size, mean and unit-level variance of one arm.

    With shifted sums, ``shift`` is the shift and ``centred_mean`` Σ(y − shift)/n, so that
    a difference of means subtracts the small centred means and the shifts separately.
    """

    n: int
    mean: float
    variance: float
    shift: float = 0.0
    centred_mean: float | None = None


def mean_difference(control: ArmMoments, treatment: ArmMoments) -> float:
    """μ_T − μ_C, as (Σ_T/n_T − Σ_C/n_C) + (shift_T − shift_C) when both arms are shifted.

    (shift + Σ_T/n) − (shift + Σ_C/n) rounds each mean to the shift's precision first: at
    an offset of 1e9 that loses about 1e-5 of a 0.01 difference.
    """
    if control.centred_mean is None or treatment.centred_mean is None:
        return treatment.mean - control.mean
    return (treatment.centred_mean - control.centred_mean) + (treatment.shift - control.shift)


@dataclass(frozen=True)
class EffectMoments:
    """Point estimate of the effect, the variance of that estimate, and Welch's ν."""

    effect: float
    variance: float
    dof: float
    n_total: int
    control_mean: float
    treatment_mean: float
    variance_reduction: float = 0.0


def _product_over_n(a: float, b: float, n: int) -> float:
    """a·b/n, without overflow when a·b alone would exceed the float range."""
    product = a * b
    return product / n if math.isfinite(product) else a * (b / n)


def sample_variance(n: int, total: float, squares: float) -> float:
    """Unbiased variance (Σx² − (Σx)²/n) / (n − 1), clamped at 0 against round-off.

    Shift invariant: the sums may be of x − s for any constant s.
    """
    return max((squares - _product_over_n(total, total, n)) / (n - 1), 0.0)


def sample_covariance(n: int, total_x: float, total_y: float, cross: float) -> float:
    """Unbiased covariance (Σxy − Σx·Σy/n) / (n − 1); shift invariant like the variance."""
    return (cross - _product_over_n(total_x, total_y, n)) / (n - 1)


def _numerator_total(stats: RatioStats) -> float:
    """ΣM, adding back the numerator shift."""
    return stats.numerator_sum + stats.n * stats.numerator_shift


def arm_mean(stats: ArmStats) -> float | None:
    """The arm's mean (or ratio), or None when it is undefined (no units, zero denominator)."""
    if isinstance(stats, RatioStats):
        if stats.denominator_sum == 0:
            return None
        if stats.numerator_shift == 0.0:
            return stats.numerator_sum / stats.denominator_sum
        return _numerator_total(stats) / stats.denominator_sum
    if stats.n == 0:
        return None
    if isinstance(stats, ProportionStats):
        return stats.conversions / stats.n
    return stats.shift + stats.sum / stats.n


def arm_moments(stats: ArmStats) -> ArmMoments:
    """Mean and unit-level variance of one arm.  Needs n >= 2 (and ΣD != 0 for ratios)."""
    n = stats.n
    if isinstance(stats, ProportionStats):
        p = stats.conversions / n
        return ArmMoments(n=n, mean=p, variance=p * (1.0 - p))
    if isinstance(stats, MeanStats):
        return ArmMoments(
            n=n,
            mean=stats.shift + stats.sum / n,
            variance=sample_variance(n, stats.sum, stats.sum_squares),
            shift=stats.shift,
            centred_mean=stats.sum / n,
        )
    mu_m = stats.numerator_shift + stats.numerator_sum / n
    mu_d = stats.denominator_sum / n
    var_m = sample_variance(n, stats.numerator_sum, stats.numerator_sum_squares)
    var_d = sample_variance(n, stats.denominator_sum, stats.denominator_sum_squares)
    cov_md = sample_covariance(
        n, stats.numerator_sum, stats.denominator_sum, stats.numerator_denominator_sum
    )
    ratio = mu_m / mu_d
    # σ_M²/μ_D² + σ_D²·R²/μ_D² − 2·σ_MD·R/μ_D², each term divided by μ_D twice (no μ_D⁴)
    variance = (var_m + var_d * ratio * ratio - 2.0 * cov_md * ratio) / mu_d / mu_d
    return ArmMoments(n=n, mean=ratio, variance=max(variance, 0.0))


def welch_dof(var_c: float, n_c: int, var_t: float, n_t: int) -> float:
    """Welch–Satterthwaite degrees of freedom from the unit-level variances.

    ν = (a + b)² / (a²/(n_T − 1) + b²/(n_C − 1)) with a = σ_T²/n_T, b = σ_C²/n_C, computed
    on a and b divided by the larger of them, so that neither squares overflow (σ² above
    1e154) nor underflow; ν is infinite when both variances are 0.
    """
    a, b = var_t / n_t, var_c / n_c
    scale = max(a, b)
    if not scale > 0:
        return float("inf")
    a, b = a / scale, b / scale
    return (a + b) * (a + b) / (a * a / (n_t - 1) + b * b / (n_c - 1))


def effect_moments(control: ArmMoments, treatment: ArmMoments, *, relative: bool) -> EffectMoments:
    """Effect and its variance.

    Absolute: Δ = μ_T − μ_C, Var = σ_C²/n_C + σ_T²/n_T.
    Relative: Δ/|μ_C|, delta-method Var = σ_T²/(n_T·μ_C²) + σ_C²·μ_T²/(n_C·μ_C⁴), computed
    as (σ_T²/n_T + σ_C²/n_C·(μ_T/μ_C)²)/μ_C/μ_C so that no power of μ_C underflows.
    The caller guarantees ``relative_effect_defined`` for relative effects; otherwise the
    effect or variance may be infinite.
    """
    mu_c, mu_t = control.mean, treatment.mean
    diff = mean_difference(control, treatment)
    if relative:
        effect = diff / abs(mu_c)
        ratio = mu_t / mu_c
        variance = (
            (treatment.variance / treatment.n + control.variance / control.n * ratio * ratio)
            / mu_c
            / mu_c
        )
    else:
        effect = diff
        variance = control.variance / control.n + treatment.variance / treatment.n
    return EffectMoments(
        effect=effect,
        variance=variance,
        dof=welch_dof(control.variance, control.n, treatment.variance, treatment.n),
        n_total=control.n + treatment.n,
        control_mean=mu_c,
        treatment_mean=mu_t,
    )


def relative_effect_defined(control: ArmStats, treatment: ArmStats) -> bool:
    """Whether Δ/|μ_C| and its delta-method variance are finite floats.

    False when μ_C is 0, or so close to 0 next to the treatment mean and the spread (for
    unit-scale data, |μ_C| below about 1e-154) that the relative effect or its variance
    overflows; ``compare`` reports status "zero_control_mean" then.  Needs what
    ``arm_moments`` needs: n >= 2 in each arm and nonzero ratio denominators.
    """
    if arm_mean(control) == 0:
        return False
    em = effect_moments(arm_moments(control), arm_moments(treatment), relative=True)
    return math.isfinite(em.effect) and math.isfinite(em.variance)
