"""Sample ratio mismatch: are units split across arms as the configured weights say?

Two levels (``srm_level``): a warning at p < 0.01 and an error at p < 0.001.  The check runs
at every refresh of a running experiment, so its false alarms add up over the reads: with
an error threshold of 0.001, a healthy experiment read 20 times has at most a 2% chance
(1 − 0.999^20; less, as the reads share data) of a false error that would hold its decision,
while real imbalances still reach it as units accumulate (a 49.5% / 50.5% split has
p ≈ 0.0016 at 100,000 units and p ≈ 8e-6 at 200,000).  The warning at 0.01 shows such a drift
earlier without holding the decision.  See docs/statistics.md, "Sample ratio mismatch: two levels".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from scipy import stats as sps

from analysis.engine.stats.results import SrmResult

SRM_THRESHOLD = 0.001  # an error: the decision is held
SRM_WARNING_THRESHOLD = 0.01  # a warning: look, but the decision stands

# Values of ``srm_level``.
SRM_OK, SRM_WARNING, SRM_ERROR = "ok", "warning", "error"
SRM_LEVELS = (SRM_OK, SRM_WARNING, SRM_ERROR)


def srm_level(
    p_value: float | None,
    *,
    error: float = SRM_THRESHOLD,
    warning: float = SRM_WARNING_THRESHOLD,
) -> str:
    """``error`` when p < ``error`` (0.001), ``warning`` when p < ``warning`` (0.01), else
    ``ok`` (also when there is no p-value: nothing was tested)."""
    if p_value is None or not math.isfinite(p_value):
        return SRM_OK
    if p_value < error:
        return SRM_ERROR
    if p_value < warning:
        return SRM_WARNING
    return SRM_OK


def srm_check(
    observed: Sequence[int], weights: Sequence[float], *, threshold: float = SRM_THRESHOLD
) -> SrmResult:
    """Pearson chi-square goodness of fit of ``observed`` unit counts to ``weights``.

    Weights are normalised to sum to 1; the expected count of arm i is N·w_i.  The test
    has k − 1 degrees of freedom.  ``mismatch`` is True when p < ``threshold`` (0.001).
    With no units at all there is nothing to test: statistic 0, p 1, no mismatch.
    """
    if len(observed) != len(weights):
        raise ValueError(
            f"srm_check: observed and weights must have the same length, "
            f"got {len(observed)} and {len(weights)}"
        )
    if len(observed) < 2:
        raise ValueError(f"srm_check: observed needs at least 2 arms, got {len(observed)}")
    counts: list[int] = []
    for i, o in enumerate(observed):
        if isinstance(o, bool) or not isinstance(o, numbers.Integral) or o < 0:
            raise ValueError(f"srm_check: observed[{i}] must be a non-negative integer, got {o!r}")
        counts.append(int(o))
    ws: list[float] = []
    for i, w in enumerate(weights):
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) or w <= 0:
            raise ValueError(f"srm_check: weights[{i}] must be a positive number, got {w!r}")
        ws.append(float(w))
    if not 0 < threshold < 1:
        raise ValueError(f"srm_check: threshold must be in (0, 1), got {threshold!r}")
    total = sum(counts)
    weight_total = sum(ws)
    expected = tuple(total * w / weight_total for w in ws)
    if total == 0:
        return SrmResult(0.0, 1.0, False, expected=expected, threshold=threshold)
    statistic = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True))
    p_value = float(sps.chi2.sf(statistic, len(counts) - 1))
    return SrmResult(
        statistic=float(statistic),
        p_value=p_value,
        mismatch=p_value < threshold,
        expected=expected,
        threshold=threshold,
    )
