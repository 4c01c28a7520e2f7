"""Winsorization: cap extreme unit-level values before computing sufficient statistics.

The caps are percentiles of the unit values of all arms pooled, so every arm is capped at
the same value and the cap itself does not depend on the treatment assignment.  Percentiles
use linear interpolation (numpy's default, the same as SQL ``percentile_cont``), so the
aggregation layer can compute the cap in the database and apply ``LEAST(value, cap)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


def _check_percentile(name: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 100.0:
        raise ValueError(f"winsorize: {name} must be in [0, 100], got {value!r}")


def winsorization_bounds(
    arms: Sequence[ArrayLike],
    *,
    upper_percentile: float | None = 99.0,
    lower_percentile: float | None = None,
) -> tuple[float | None, float | None]:
    """(lower cap, upper cap) as percentiles of all arms' unit values pooled (None = no cap)."""
    _check_percentile("upper_percentile", upper_percentile)
    _check_percentile("lower_percentile", lower_percentile)
    arrays = [np.asarray(a, dtype=float).ravel() for a in arms]
    pooled = np.concatenate(arrays) if arrays else np.empty(0)
    if not np.all(np.isfinite(pooled)):
        raise ValueError("winsorize: arms must contain only finite values")
    if pooled.size == 0:
        return None, None
    low = None if lower_percentile is None else float(np.percentile(pooled, lower_percentile))
    high = None if upper_percentile is None else float(np.percentile(pooled, upper_percentile))
    return low, high


def winsorize(
    arms: Sequence[ArrayLike],
    *,
    upper_percentile: float | None = 99.0,
    lower_percentile: float | None = None,
) -> list[np.ndarray]:
    """Each arm's unit values capped at the pooled percentiles (see ``winsorization_bounds``)."""
    low, high = winsorization_bounds(
        arms, upper_percentile=upper_percentile, lower_percentile=lower_percentile
    )
    if low is None and high is None:
        return [np.array(a, dtype=float) for a in arms]
    return [np.clip(np.asarray(a, dtype=float), low, high) for a in arms]
