"""Sufficient statistics computed from raw per-unit arrays, as the SQL aggregation would."""

from __future__ import annotations

import numpy as np

from analysis.engine.stats import MeanStats, RatioStats


def mean_stats(y: np.ndarray, x: np.ndarray | None = None) -> MeanStats:
    """What the aggregation query would return for per-unit values y (and pre-period x)."""
    y = np.asarray(y, dtype=float)
    if x is None:
        return MeanStats(n=y.size, sum=float(y.sum()), sum_squares=float((y * y).sum()))
    x = np.asarray(x, dtype=float)
    return MeanStats(
        n=y.size,
        sum=float(y.sum()),
        sum_squares=float((y * y).sum()),
        pre_sum=float(x.sum()),
        pre_sum_squares=float((x * x).sum()),
        cross_sum=float((x * y).sum()),
    )


def ratio_stats(m: np.ndarray, d: np.ndarray) -> RatioStats:
    m = np.asarray(m, dtype=float)
    d = np.asarray(d, dtype=float)
    return RatioStats(
        n=m.size,
        numerator_sum=float(m.sum()),
        numerator_sum_squares=float((m * m).sum()),
        denominator_sum=float(d.sum()),
        denominator_sum_squares=float((d * d).sum()),
        numerator_denominator_sum=float((m * d).sum()),
    )
