"""Always-valid inference: asymptotic confidence sequences (Waudby-Smith et al., 2023).

The interval is wide enough to hold simultaneously at every sample size, so results may be
read every day (and the experiment stopped at the first significant read) without inflating
false positives.  With N = n_C + n_T, s² = SE²·N and a tuning constant N* (the sample size at
which the interval is tightest relative to a fixed-horizon one):

    ρ = √((−2 ln α + ln(1 − 2 ln α)) / N*)
    half-width = s·√( 2(Nρ² + 1)/(N²ρ²) · ln(√(Nρ² + 1)/α) )
    p = min(1, 1/E),  E = exp(ρ²N z² / (2(Nρ² + 1))) / √(Nρ² + 1),  z = Δ/SE.

p < α exactly when the interval excludes 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.engine.stats.moments import EffectMoments


@dataclass(frozen=True)
class SequentialResult:
    effect: float
    stderr: float
    ci: tuple[float, float]
    p_value: float


def rho(alpha: float, tuning: float) -> float:
    """The mixing parameter ρ for significance level α and tuning constant N*."""
    return math.sqrt((-2.0 * math.log(alpha) + math.log(1.0 - 2.0 * math.log(alpha))) / tuning)


def confidence_sequence(em: EffectMoments, *, alpha: float, tuning: float) -> SequentialResult:
    """Confidence sequence and always-valid p-value.  ``em.variance`` must be > 0."""
    n = float(em.n_total)
    se = math.sqrt(em.variance)
    s2 = em.variance * n
    r2 = rho(alpha, tuning) ** 2
    a = n * r2 + 1.0
    half = math.sqrt(s2) * math.sqrt(2.0 * a / (n * n * r2) * math.log(math.sqrt(a) / alpha))
    z = em.effect / se
    log_e = r2 * n * z * z / (2.0 * a) - 0.5 * math.log(a)
    p_value = 1.0 if log_e <= 0 else math.exp(-log_e)
    return SequentialResult(
        effect=em.effect,
        stderr=se,
        ci=(em.effect - half, em.effect + half),
        p_value=min(p_value, 1.0),
    )
