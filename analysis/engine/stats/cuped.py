"""CUPED: variance reduction with a pre-exposure covariate (Deng et al., 2013).

θ = Cov(Y, X) / Var(X) is estimated on both arms pooled (θ = 0, i.e. no adjustment, when
either pooled variance is 0).  Each arm's adjusted mean is Ȳ − θX̄ and its adjusted unit
variance V = σ_Y² + θ²σ_X² − 2θσ_XY; Welch's ν uses these adjusted variances.  The relative
effect divides by the unadjusted control mean |Ȳ_C| (the gbstats definition).
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.engine.stats.inputs import MeanStats
from analysis.engine.stats.moments import (
    EffectMoments,
    sample_covariance,
    sample_variance,
    welch_dof,
)


@dataclass(frozen=True)
class _CupedArm:
    n: int
    mean_y: float
    mean_x: float
    var_y: float
    var_x: float
    cov_xy: float
    centred_y: float  # Σ(y − shift)/n
    centred_x: float  # Σ(x − pre_shift)/n

    def adjusted_variance(self, theta: float) -> float:
        v = self.var_y + theta * theta * self.var_x - 2.0 * theta * self.cov_xy
        return max(v, 0.0)


def _arm(stats: MeanStats) -> _CupedArm:
    n = stats.n
    assert stats.pre_sum is not None and stats.pre_sum_squares is not None
    assert stats.cross_sum is not None
    return _CupedArm(
        n=n,
        mean_y=stats.shift + stats.sum / n,
        mean_x=stats.pre_shift + stats.pre_sum / n,
        var_y=sample_variance(n, stats.sum, stats.sum_squares),
        var_x=sample_variance(n, stats.pre_sum, stats.pre_sum_squares),
        cov_xy=sample_covariance(n, stats.sum, stats.pre_sum, stats.cross_sum),
        centred_y=stats.sum / n,
        centred_x=stats.pre_sum / n,
    )


def pooled_theta(control: MeanStats, treatment: MeanStats) -> float:
    """θ = Cov(Y, X) / Var(X) on both arms pooled; 0 when either pooled variance is 0."""
    pooled = control + treatment
    assert pooled.pre_sum is not None and pooled.pre_sum_squares is not None
    assert pooled.cross_sum is not None
    n = pooled.n
    var_x = sample_variance(n, pooled.pre_sum, pooled.pre_sum_squares)
    var_y = sample_variance(n, pooled.sum, pooled.sum_squares)
    if var_x <= 0 or var_y <= 0:
        return 0.0
    return sample_covariance(n, pooled.sum, pooled.pre_sum, pooled.cross_sum) / var_x


def cuped_effect_moments(
    control: MeanStats, treatment: MeanStats, *, relative: bool, unadjusted_variance: float
) -> EffectMoments:
    """CUPED-adjusted effect moments; ``variance_reduction`` = 1 − Var_adj / Var_unadj."""
    theta = pooled_theta(control, treatment)
    c, t = _arm(control), _arm(treatment)
    v_c, v_t = c.adjusted_variance(theta), t.adjusted_variance(theta)
    # the centred means and the shifts apart, so that a large shift costs no precision
    diff_y = (t.centred_y - c.centred_y) + (treatment.shift - control.shift)
    diff_x = (t.centred_x - c.centred_x) + (treatment.pre_shift - control.pre_shift)
    diff = diff_y - theta * diff_x
    if relative:
        yc, yt = c.mean_y, t.mean_y
        effect = diff / abs(yc)
        r = yt / yc
        control_term = c.var_y * r * r - 2.0 * theta * c.cov_xy * r + theta * theta * c.var_x
        # divided by yc twice rather than by yc², which underflows for |yc| below 1e-154
        variance = (v_t / t.n + max(control_term, 0.0) / c.n) / yc / yc
    else:
        effect = diff
        variance = v_c / c.n + v_t / t.n
    reduction = 1.0 - variance / unadjusted_variance if unadjusted_variance > 0 else 0.0
    return EffectMoments(
        effect=effect,
        variance=variance,
        dof=welch_dof(v_c, c.n, v_t, t.n),
        n_total=c.n + t.n,
        control_mean=c.mean_y,
        treatment_mean=t.mean_y,
        variance_reduction=reduction,
    )
