"""Small converters the engine uses while building contract objects."""

from __future__ import annotations

import math
from typing import Any


def num(value: Any) -> float | None:
    """A finite float, or None (for None, NaN and infinities)."""
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def pair(value: Any) -> tuple[float, float] | None:
    """An interval ``(low, high)`` from a list or tuple, or None."""
    if value is None:
        return None
    low, high = value
    lo, hi = num(low), num(high)
    if lo is None or hi is None:
        return None
    return (lo, hi)
