"""Bayesian analysis: Gaussian model on the effect with a conjugate normal prior.

The likelihood is Δ̂ ~ N(Δ, SE²).  With the default flat prior the posterior is
N(Δ̂, SE²).  A proper prior N(m₀, v₀) is stated on the relative effect; for absolute effects
it is scaled to m₀·|μ_C| and v₀·μ_C².  The posterior has precision 1/SE² + 1/v₀ and mean
(Δ̂/SE² + m₀/v₀)/precision.  With posterior mean m and sd s:

    chance to win = Φ(m/s)          (1 − Φ(m/s) when lower is better)
    risk = (s·φ(m/s) + m·Φ(m/s),  s·φ(m/s) − m·Φ(−m/s))

i.e. (E[max(Δ, 0)], E[max(−Δ, 0)]): the expected loss of keeping control and of shipping
treatment; the two are swapped when lower is better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps

from analysis.engine.stats.moments import EffectMoments


@dataclass(frozen=True)
class BayesianResult:
    effect: float
    stderr: float
    ci: tuple[float, float]
    chance_to_win: float
    risk: tuple[float, float]


def posterior(
    effect: float, variance: float, *, prior_mean: float, prior_variance: float | None
) -> tuple[float, float]:
    """Posterior (mean, variance) of the effect; flat prior when ``prior_variance`` is None."""
    if prior_variance is None:
        return effect, variance
    precision = 1.0 / variance + 1.0 / prior_variance
    mean = (effect / variance + prior_mean / prior_variance) / precision
    return mean, 1.0 / precision


def bayesian_update(
    em: EffectMoments,
    *,
    relative: bool,
    alpha: float,
    prior_mean: float,
    prior_variance: float | None,
    higher_is_better: bool,
) -> BayesianResult:
    """Posterior summary.  ``em.variance`` must be > 0 (and μ_C != 0 for scaled priors)."""
    if prior_variance is not None and not relative:
        scale = abs(em.control_mean)
        prior_mean, prior_variance = prior_mean * scale, prior_variance * scale**2
    m, v = posterior(em.effect, em.variance, prior_mean=prior_mean, prior_variance=prior_variance)
    s = math.sqrt(v)
    ratio = m / s
    pdf = float(sps.norm.pdf(ratio))
    cdf_up = float(sps.norm.cdf(ratio))
    cdf_down = float(sps.norm.cdf(-ratio))
    expected_rise = s * pdf + m * cdf_up  # E[max(Δ, 0)]
    expected_fall = s * pdf - m * cdf_down  # E[max(−Δ, 0)]
    if higher_is_better:
        ctw = cdf_up
        risk = (expected_rise, expected_fall)
    else:
        ctw = cdf_down
        risk = (expected_fall, expected_rise)
    q = float(sps.norm.ppf(1.0 - alpha / 2.0))
    return BayesianResult(
        effect=m,
        stderr=s,
        ci=(m - q * s, m + q * s),
        chance_to_win=ctw,
        risk=(max(risk[0], 0.0), max(risk[1], 0.0)),
    )
