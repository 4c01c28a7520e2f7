"""Small converters shared by the contract's ``from_dict`` / ``to_dict`` methods."""

from __future__ import annotations

import math
from collections.abc import Mapping
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


def pair_out(value: tuple[float, float] | None) -> list[float] | None:
    return None if value is None else [value[0], value[1]]


def counts(value: Mapping[str, Any] | None) -> dict[str, int]:
    return {str(k): int(v) for k, v in (value or {}).items()}


def floats(value: Mapping[str, Any] | None) -> dict[str, float | None]:
    return {str(k): num(v) for k, v in (value or {}).items()}
