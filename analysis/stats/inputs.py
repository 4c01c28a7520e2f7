"""Input dataclasses: per-arm sufficient statistics, with validation.

Each class holds the sums an aggregation query produces for one arm (``GROUP BY variant``).
They add together (``a + b`` sums the sufficient statistics, so daily or per-segment rows
can be combined) and round-trip through ``to_dict`` / ``from_dict`` so that a stored
snapshot can be recomputed exactly.  Invalid input raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar


def _check_count(cls_name: str, field: str, value: Any) -> int:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
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


def _check_real(cls_name: str, field: str, value: Any, *, optional: bool = False) -> float | None:
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


def _check_sum_squares(cls_name: str, field: str, n: int, total: float, squares: float) -> None:
    """Σx² must be >= (Σx)²/n (Cauchy–Schwarz), up to floating-point round-off."""
    if squares < 0:
        raise ValueError(f"{cls_name}.{field} must be >= 0, got {squares}")
    if n == 0:
        if total != 0 or squares != 0:
            raise ValueError(f"{cls_name}.{field} must be 0 when n is 0")
        return
    floor = total * total / n
    if squares < floor - 1e-9 * max(1.0, floor):
        raise ValueError(
            f"{cls_name}.{field} is smaller than sum**2 / n ({squares} < {floor}); "
            "the sums are inconsistent"
        )


class _StatsMixin:
    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict, including a ``kind`` tag; inverse of ``from_dict``."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            out[f.name] = getattr(self, f.name)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Rebuild from ``to_dict`` output (the ``kind`` key is optional but must match)."""
        data = dict(data)
        kind = data.pop("kind", cls.kind)
        if kind != cls.kind:
            raise ValueError(f"{cls.__name__}.from_dict: kind must be {cls.kind!r}, got {kind!r}")
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{cls.__name__}.from_dict: unknown fields {unknown}")
        return cls(**data)

    def __radd__(self, other: Any) -> Any:
        # Lets ``sum(list_of_stats)`` work: sum() starts from 0.
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented


@dataclass(frozen=True)
class ProportionStats(_StatsMixin):
    """A conversion metric for one arm: ``conversions`` of ``n`` units converted."""

    kind: ClassVar[str] = "proportion"

    n: int
    conversions: int

    def __post_init__(self) -> None:
        name = type(self).__name__
        object.__setattr__(self, "n", _check_count(name, "n", self.n))
        object.__setattr__(self, "conversions", _check_count(name, "conversions", self.conversions))
        if self.conversions > self.n:
            raise ValueError(
                f"{name}.conversions must be <= n, got conversions={self.conversions} n={self.n}"
            )

    def __add__(self, other: Any) -> ProportionStats:
        if not isinstance(other, ProportionStats):
            return NotImplemented
        return ProportionStats(n=self.n + other.n, conversions=self.conversions + other.conversions)


_PRE_FIELDS = ("pre_sum", "pre_sum_squares", "cross_sum")


@dataclass(frozen=True)
class MeanStats(_StatsMixin):
    """A mean metric for one arm (e.g. revenue per unit).

    ``sum`` and ``sum_squares`` are Σy and Σy² over units.  The optional ``pre_*`` fields
    are the same metric measured before exposure (Σx, Σx²) and ``cross_sum`` is Σ(y·x);
    when both arms carry them, ``compare`` applies CUPED.
    """

    kind: ClassVar[str] = "mean"

    n: int
    sum: float
    sum_squares: float
    pre_sum: float | None = None
    pre_sum_squares: float | None = None
    cross_sum: float | None = None

    def __post_init__(self) -> None:
        name = type(self).__name__
        n = _check_count(name, "n", self.n)
        object.__setattr__(self, "n", n)
        for f in ("sum", "sum_squares"):
            object.__setattr__(self, f, _check_real(name, f, getattr(self, f)))
        for f in _PRE_FIELDS:
            object.__setattr__(self, f, _check_real(name, f, getattr(self, f), optional=True))
        _check_sum_squares(name, "sum_squares", n, self.sum, self.sum_squares)
        present = [f for f in _PRE_FIELDS if getattr(self, f) is not None]
        if present and len(present) != len(_PRE_FIELDS):
            missing = [f for f in _PRE_FIELDS if getattr(self, f) is None]
            raise ValueError(
                f"{name}: pre-period fields must be given together; missing {', '.join(missing)}"
            )
        if present:
            assert self.pre_sum is not None and self.pre_sum_squares is not None
            _check_sum_squares(name, "pre_sum_squares", n, self.pre_sum, self.pre_sum_squares)

    @property
    def has_pre(self) -> bool:
        """True when the pre-exposure sums (for CUPED) are present."""
        return self.pre_sum is not None

    def __add__(self, other: Any) -> MeanStats:
        if not isinstance(other, MeanStats):
            return NotImplemented
        if self.has_pre != other.has_pre:
            raise ValueError(
                "MeanStats: cannot add statistics with pre-period fields to statistics without"
            )
        pre: dict[str, float | None] = {f: None for f in _PRE_FIELDS}
        if self.has_pre:
            pre = {f: getattr(self, f) + getattr(other, f) for f in _PRE_FIELDS}
        return MeanStats(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_squares=self.sum_squares + other.sum_squares,
            **pre,
        )


@dataclass(frozen=True)
class RatioStats(_StatsMixin):
    """A ratio metric for one arm, e.g. revenue per order (average order value).

    Per unit there is a numerator M (revenue) and a denominator D (orders); the fields
    are ΣM, ΣM², ΣD, ΣD² and Σ(M·D) over units.
    """

    kind: ClassVar[str] = "ratio"

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    numerator_denominator_sum: float

    def __post_init__(self) -> None:
        name = type(self).__name__
        n = _check_count(name, "n", self.n)
        object.__setattr__(self, "n", n)
        for f in fields(self):
            if f.name != "n":
                object.__setattr__(self, f.name, _check_real(name, f.name, getattr(self, f.name)))
        _check_sum_squares(
            name, "numerator_sum_squares", n, self.numerator_sum, self.numerator_sum_squares
        )
        _check_sum_squares(
            name, "denominator_sum_squares", n, self.denominator_sum, self.denominator_sum_squares
        )

    def __add__(self, other: Any) -> RatioStats:
        if not isinstance(other, RatioStats):
            return NotImplemented
        return RatioStats(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


ArmStats = ProportionStats | MeanStats | RatioStats

_KINDS: dict[str, type[ProportionStats] | type[MeanStats] | type[RatioStats]] = {
    "proportion": ProportionStats,
    "mean": MeanStats,
    "ratio": RatioStats,
}


def stats_from_dict(data: dict[str, Any]) -> ArmStats:
    """Rebuild any input dataclass from its ``to_dict`` output, using the ``kind`` tag."""
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"stats_from_dict: kind must be one of {sorted(_KINDS)}, got {kind!r}")
    return _KINDS[kind].from_dict(data)  # type: ignore[no-any-return]
