"""Confidence intervals for a relative effect whose two tails hold equal error.

The relative effect is (μ_T − μ_C)/|μ_C|, a function of the ratio r = N/D of a numerator
estimate N (the treatment mean, or for CUPED Ȳ_T + θ(X̄_C − X̄_T)) and a denominator estimate
D (the control mean Ȳ_C).  Three interval formulas are offered (``RELATIVE_INTERVALS``):

* ``"fieller"`` (the default): Fieller's interval, the set of ratios r with
  (N − rD)² <= k²(v_N − 2r·c_ND + r²v_D), where v_N, v_D, c_ND are the variances and
  covariance of N and D and k the critical value of the test (Student's t with Welch's ν,
  or the confidence-sequence multiplier).  At r = 1 this is the absolute test of
  μ_T − μ_C, so the relative p-value equals the absolute one and p < α exactly when the
  interval excludes 0.  The set is a finite interval only when D is itself significantly
  different from 0 (D² > k²v_D); otherwise no finite interval exists.
* ``"log"``: the delta method on log N − log D, back-transformed: exp(log r ± k·SE) − 1,
  with SE² = v_N/N² + v_D/D² − 2c_ND/(ND).  Needs N > 0 and D > 0.
* ``"delta"``: the delta method on Δ/|μ_C| itself, Δ ± k·SE; GrowthBook's gbstats formula,
  kept so that parity with gbstats stays checkable.  Its tails are lopsided: the upper
  bound is too low more often than the lower bound is too high.

See docs/statistics.md, "Relative intervals", for the calibration study behind the default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from analysis.engine.stats.cuped import pooled_theta
from analysis.engine.stats.frequentist import welch_t_test
from analysis.engine.stats.inputs import ArmStats, MeanStats
from analysis.engine.stats.moments import (
    EffectMoments,
    arm_moments,
    sample_covariance,
    sample_variance,
)
from analysis.engine.stats.sequential import confidence_sequence

RELATIVE_INTERVALS = ("fieller", "log", "delta")
DEFAULT_RELATIVE_INTERVAL = "fieller"


@dataclass(frozen=True)
class RatioEstimate:
    """Numerator and denominator estimates of r = N/D with their (co)variances."""

    numerator: float
    denominator: float
    numerator_variance: float
    denominator_variance: float
    covariance: float = 0.0

    @property
    def difference_variance(self) -> float:
        """Var(N − D): the variance of the absolute effect."""
        return max(self.numerator_variance + self.denominator_variance - 2.0 * self.covariance, 0.0)


def _to_relative(ratio_low: float, ratio_high: float, denominator: float) -> tuple[float, float]:
    """Map an interval for r = N/D to one for (N − D)/|D| = sign(D)·(r − 1)."""
    if denominator > 0:
        return ratio_low - 1.0, ratio_high - 1.0
    return 1.0 - ratio_high, 1.0 - ratio_low


def fieller_interval(est: RatioEstimate, *, critical: float) -> tuple[float, float] | None:
    """Fieller's interval for the relative effect (N − D)/|D|, or None when it is unbounded.

    ``critical`` is k, the two-sided critical value of the test.  None means D is not
    significantly different from 0 at that level, so the confidence set for the ratio is
    the whole line or two half-lines.

    The interval is scale invariant, so the quadratic is solved on N and D divided by |D|
    (variances by D², twice by |D| so that D² never overflows): its products stay near 1
    however large the means are (|N·D| above 1e154 would otherwise overflow to inf − inf).
    """
    scale = abs(est.denominator)
    if not scale > 0:
        return None
    n, d, k2 = est.numerator / scale, est.denominator / scale, critical * critical
    a = d * d - k2 * (est.denominator_variance / scale / scale)
    if not a > 0:
        return None
    half_b = n * d - k2 * (est.covariance / scale / scale)
    c = n * n - k2 * (est.numerator_variance / scale / scale)
    root = math.sqrt(max(half_b * half_b - a * c, 0.0))
    return _to_relative((half_b - root) / a, (half_b + root) / a, d)


def log_ratio_standard_error(est: RatioEstimate) -> float | None:
    """SE of log N − log D by the delta method, or None unless N > 0 and D > 0."""
    n, d = est.numerator, est.denominator
    if not (n > 0 and d > 0):
        return None
    # each term divided twice rather than by a square, which overflows for means above 1e154
    variance = (
        est.numerator_variance / n / n
        + est.denominator_variance / d / d
        - 2.0 * est.covariance / n / d
    )
    return math.sqrt(variance) if variance > 0 else None


def log_interval(est: RatioEstimate, *, critical: float) -> tuple[float, float] | None:
    """exp(log(N/D) ± k·SE) − 1, or None unless N > 0, D > 0 and SE > 0."""
    se = log_ratio_standard_error(est)
    if se is None:
        return None
    log_r = math.log(est.numerator / est.denominator)
    return math.expm1(log_r - critical * se), math.expm1(log_r + critical * se)


def ratio_estimate(control: ArmStats, treatment: ArmStats) -> RatioEstimate:
    """N, D and their (co)variances from two arms of the same kind (n >= 2, D defined).

    Without CUPED, N = μ_T and D = μ_C are independent.  With CUPED (MeanStats carrying
    pre-period sums on both arms), N = Ȳ_T + θ(X̄_C − X̄_T) and D = Ȳ_C, so that
    N − D is the adjusted difference; they share the control arm's X̄_C, hence c_ND = θσ_XY,C/n_C.
    """
    if (
        isinstance(control, MeanStats)
        and isinstance(treatment, MeanStats)
        and control.has_pre
        and treatment.has_pre
    ):
        return _cuped_ratio_estimate(control, treatment)
    c, t = arm_moments(control), arm_moments(treatment)
    return RatioEstimate(
        numerator=t.mean,
        denominator=c.mean,
        numerator_variance=t.variance / t.n,
        denominator_variance=c.variance / c.n,
    )


def _pre(stats: MeanStats) -> tuple[float, float, float, float, float]:
    """(mean y, mean x, var y, var x, cov xy) of one arm with pre-period sums."""
    n = stats.n
    assert stats.pre_sum is not None and stats.pre_sum_squares is not None
    assert stats.cross_sum is not None
    return (
        stats.shift + stats.sum / n,
        stats.pre_shift + stats.pre_sum / n,
        sample_variance(n, stats.sum, stats.sum_squares),
        sample_variance(n, stats.pre_sum, stats.pre_sum_squares),
        sample_covariance(n, stats.sum, stats.pre_sum, stats.cross_sum),
    )


def _cuped_ratio_estimate(control: MeanStats, treatment: MeanStats) -> RatioEstimate:
    theta = pooled_theta(control, treatment)
    yc, xc, vyc, vxc, cxyc = _pre(control)
    yt, xt, vyt, vxt, cxyt = _pre(treatment)
    adjusted_t = max(vyt + theta**2 * vxt - 2.0 * theta * cxyt, 0.0)
    n_c, n_t = control.n, treatment.n
    return RatioEstimate(
        numerator=yt + theta * (xc - xt),
        denominator=yc,
        numerator_variance=adjusted_t / n_t + theta**2 * vxc / n_c,
        denominator_variance=vyc / n_c,
        covariance=theta * cxyc / n_c,
    )


@dataclass(frozen=True)
class RelativeResult:
    """Relative effect, delta-method SE, interval, p-value and ν (None if not Student t)."""

    effect: float
    stderr: float
    ci: tuple[float, float]
    p_value: float
    dof: float | None


def relative_test(
    est: RatioEstimate,
    em: EffectMoments,
    *,
    interval: str,
    method: str,
    alpha: float,
    tuning: float,
) -> RelativeResult | None:
    """Frequentist or sequential test of a relative effect with a "fieller" or "log" interval.

    ``em`` holds the delta-method moments of the relative effect: its point estimate and SE
    are reported as they are; ν is reused.  The p-value comes from the statistic the
    interval inverts (N − D for Fieller, log N − log D for the log ratio), so p < α exactly
    when the interval excludes 0.  None when the interval is unbounded.
    """
    if interval == "fieller":
        pivot_effect, pivot_variance = est.numerator - est.denominator, est.difference_variance
    elif interval == "log":
        se_log = log_ratio_standard_error(est)
        if se_log is None:
            return None
        pivot_effect, pivot_variance = math.log(est.numerator / est.denominator), se_log**2
    else:
        raise ValueError(f"relative_test: interval must be 'fieller' or 'log', got {interval!r}")
    if not pivot_variance > 0:
        return None
    pivot = replace(em, effect=pivot_effect, variance=pivot_variance)
    if method == "sequential":
        s = confidence_sequence(pivot, alpha=alpha, tuning=tuning)
        p_value, half, dof = s.p_value, s.ci[1] - s.effect, None
    else:
        f = welch_t_test(pivot, alpha=alpha)
        p_value, half, dof = f.p_value, f.ci[1] - f.effect, f.dof
    critical = half / math.sqrt(pivot_variance)
    ci = (
        fieller_interval(est, critical=critical)
        if interval == "fieller"
        else log_interval(est, critical=critical)
    )
    if ci is None:
        return None
    return RelativeResult(
        effect=em.effect, stderr=math.sqrt(em.variance), ci=ci, p_value=p_value, dof=dof
    )
