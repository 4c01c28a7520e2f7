"""Per-arm moments and the moments of the effect estimate (absolute or relative).

Definitions follow GrowthBook's gbstats:

* proportions: p = conversions / n, unit variance p(1 − p);
* means: μ = Σy / n, σ² = (Σy² − (Σy)²/n) / (n − 1);
* ratios: R = ΣM / ΣD with the delta-method unit variance
  σ_M²/μ_D² + σ_D²·μ_M²/μ_D⁴ − 2·σ_MD·μ_M/μ_D³.

The effect is Δ = μ_T − μ_C (absolute) or Δ/|μ_C| (relative); see ``effect_moments``.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.stats.inputs import ArmStats, MeanStats, ProportionStats, RatioStats


@dataclass(frozen=True)
class ArmMoments:
    """Sample size, mean and unit-level variance of one arm."""

    n: int
    mean: float
    variance: float


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


def sample_variance(n: int, total: float, squares: float) -> float:
    """Unbiased variance (Σx² − (Σx)²/n) / (n − 1), clamped at 0 against round-off."""
    return max((squares - total * total / n) / (n - 1), 0.0)


def sample_covariance(n: int, total_x: float, total_y: float, cross: float) -> float:
    """Unbiased covariance (Σxy − Σx·Σy/n) / (n − 1)."""
    return (cross - total_x * total_y / n) / (n - 1)


def arm_mean(stats: ArmStats) -> float | None:
    """The arm's mean (or ratio), or None when it is undefined (no units, zero denominator)."""
    if isinstance(stats, RatioStats):
        return None if stats.denominator_sum == 0 else stats.numerator_sum / stats.denominator_sum
    if stats.n == 0:
        return None
    if isinstance(stats, ProportionStats):
        return stats.conversions / stats.n
    return stats.sum / stats.n


def arm_moments(stats: ArmStats) -> ArmMoments:
    """Mean and unit-level variance of one arm.  Needs n >= 2 (and ΣD != 0 for ratios)."""
    n = stats.n
    if isinstance(stats, ProportionStats):
        p = stats.conversions / n
        return ArmMoments(n=n, mean=p, variance=p * (1.0 - p))
    if isinstance(stats, MeanStats):
        return ArmMoments(
            n=n, mean=stats.sum / n, variance=sample_variance(n, stats.sum, stats.sum_squares)
        )
    mu_m = stats.numerator_sum / n
    mu_d = stats.denominator_sum / n
    var_m = sample_variance(n, stats.numerator_sum, stats.numerator_sum_squares)
    var_d = sample_variance(n, stats.denominator_sum, stats.denominator_sum_squares)
    cov_md = sample_covariance(
        n, stats.numerator_sum, stats.denominator_sum, stats.numerator_denominator_sum
    )
    variance = var_m / mu_d**2 + var_d * mu_m**2 / mu_d**4 - 2.0 * cov_md * mu_m / mu_d**3
    return ArmMoments(n=n, mean=mu_m / mu_d, variance=max(variance, 0.0))


def welch_dof(var_c: float, n_c: int, var_t: float, n_t: int) -> float:
    """Welch–Satterthwaite degrees of freedom from the unit-level variances."""
    numerator = (var_t / n_t + var_c / n_c) ** 2
    denominator = var_t**2 / (n_t**2 * (n_t - 1)) + var_c**2 / (n_c**2 * (n_c - 1))
    return numerator / denominator if denominator > 0 else float("inf")


def effect_moments(control: ArmMoments, treatment: ArmMoments, *, relative: bool) -> EffectMoments:
    """Effect and its variance.

    Absolute: Δ = μ_T − μ_C, Var = σ_C²/n_C + σ_T²/n_T.
    Relative: Δ/|μ_C|, delta-method Var = σ_T²/(n_T·μ_C²) + σ_C²·μ_T²/(n_C·μ_C⁴).
    The caller guarantees μ_C != 0 for relative effects.
    """
    mu_c, mu_t = control.mean, treatment.mean
    diff = mu_t - mu_c
    if relative:
        effect = diff / abs(mu_c)
        variance = treatment.variance / (treatment.n * mu_c**2) + control.variance * mu_t**2 / (
            control.n * mu_c**4
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
