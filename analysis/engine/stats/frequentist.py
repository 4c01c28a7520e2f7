"""Fixed-horizon frequentist test: two-sided Welch t-test on the effect estimate.

z = Δ / SE, p = 2(1 − F_t(|z|; ν)), CI = Δ ± t_{1−α/2, ν}·SE, with Welch's ν from the
unit-level variances (for absolute and relative effects alike, as gbstats does).
Valid when the sample size is fixed in advance and the result is read once.  This symmetric
interval is the one ``compare`` gives absolute effects, and relative ones only with
``relative_interval="delta"``; by default a relative effect gets Fieller's interval
(analysis.engine.stats.relative), which uses this test of the absolute difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps

from analysis.engine.stats.moments import EffectMoments


@dataclass(frozen=True)
class FrequentistResult:
    effect: float
    stderr: float
    ci: tuple[float, float]
    p_value: float
    dof: float


def welch_t_test(em: EffectMoments, *, alpha: float) -> FrequentistResult:
    """Two-sided Welch t-test of H0: effect = 0.  ``em.variance`` must be > 0."""
    se = math.sqrt(em.variance)
    z = em.effect / se
    p_value = float(2.0 * sps.t.sf(abs(z), em.dof))
    width = float(sps.t.ppf(1.0 - alpha / 2.0, em.dof)) * se
    return FrequentistResult(
        effect=em.effect,
        stderr=se,
        ci=(em.effect - width, em.effect + width),
        p_value=min(p_value, 1.0),
        dof=em.dof,
    )
