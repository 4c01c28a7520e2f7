"""Sample ratio mismatch: are units split across arms as the configured weights say?"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from scipy import stats as sps

from analysis.stats.results import SrmResult

SRM_THRESHOLD = 0.001


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
