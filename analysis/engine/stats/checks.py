"""Validation of the input dataclasses' fields: counts, finite reals, consistent sums.

Each check raises ``ValueError`` naming the class and the field.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from typing import Any


def check_count(cls_name: str, field: str, value: Any) -> int:
    """A non-negative integer; integral floats and Decimals pass, bools do not."""
    if isinstance(value, bool):
        raise ValueError(f"{cls_name}.{field} must be an integer count, not a bool, got {value!r}")
    if isinstance(value, Decimal):
        value = float(value)
    if not isinstance(value, numbers.Integral):
        if isinstance(value, float | numbers.Real) and math.isfinite(value):
            as_float = float(value)
            if as_float.is_integer():
                value = int(as_float)
        if not isinstance(value, int):
            raise ValueError(f"{cls_name}.{field} must be an integer, got {value!r}")
    count = int(value)
    if count < 0:
        raise ValueError(f"{cls_name}.{field} must be >= 0, got {count}")
    return count


def check_real(cls_name: str, field: str, value: Any, *, optional: bool = False) -> float | None:
    """A finite float (None allowed when ``optional``); Decimals pass, bools do not."""
    if value is None and optional:
        return None
    if isinstance(value, Decimal):  # database aggregates of decimal columns
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{cls_name}.{field} must be a finite number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{cls_name}.{field} must be a finite number, got {value!r}")
    return number


def check_sum_squares(cls_name: str, field: str, n: int, total: float, squares: float) -> None:
    """Σx² must be >= (Σx)²/n (Cauchy–Schwarz), up to floating-point round-off."""
    if squares < 0:
        raise ValueError(f"{cls_name}.{field} must be >= 0, got {squares}")
    if n == 0:
        if total != 0 or squares != 0:
            raise ValueError(f"{cls_name}.{field} must be 0 when n is 0")
        return
    floor = total * (total / n)
    # An overflowed floor is above every float, so above ``squares`` (inf − inf would be NaN
    # and let inconsistent sums pass).
    if not math.isfinite(floor) or squares < floor - 1e-9 * max(1.0, floor):
        raise ValueError(
            f"{cls_name}.{field} is smaller than sum**2 / n ({squares} < {floor}); "
            "the sums are inconsistent"
        )
