"""Input dataclasses: per-arm sufficient statistics, with validation.

Each class holds the sums an aggregation query produces for one arm (``GROUP BY variant``).
They add together (``a + b`` sums the sufficient statistics, so daily or per-segment rows
can be combined) and round-trip through ``to_dict`` / ``from_dict`` so that a stored
snapshot can be recomputed exactly.  Invalid input raises ``ValueError`` naming the field.

Shifted sums: ``MeanStats`` and ``RatioStats`` may carry sums of (value − shift) instead of
sums of values (``shift``, ``pre_shift``, ``numerator_shift``).  With a shift near the data
(any typical value, e.g. yesterday's mean) the variance keeps its precision where raw sums
lose it: for values like 1e8 + N(0, 1), Σy² − (Σy)²/n cancels about 16 digits.  Shifted
statistics still add: ``a + b`` re-expresses ``b``'s sums around ``a``'s shift.  A shift of 0
(the default) means plain sums, exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from analysis.engine.stats.checks import check_count as _check_count
from analysis.engine.stats.checks import check_real as _check_real
from analysis.engine.stats.checks import check_sum_squares as _check_sum_squares

_SHIFT_FIELDS = ("shift", "pre_shift", "numerator_shift")


class _StatsMixin:
    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict, including a ``kind`` tag; inverse of ``from_dict``."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name in _SHIFT_FIELDS and value == 0.0:
                continue  # unshifted statistics keep the dict they always had
            out[f.name] = value
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


def _reshift(n: int, total: float, squares: float, delta: float) -> tuple[float, float]:
    """Σ(x − s) and Σ(x − s)² from Σ(x − s') and Σ(x − s')², where delta = s' − s."""
    if delta == 0.0:
        return total, squares
    return total + n * delta, squares + 2.0 * delta * total + n * delta * delta


def _common_shift(a_n: int, a_shift: float, b_n: int, b_shift: float) -> float:
    """The shift of a sum of two statistics: the shift of the one with more units."""
    return b_shift if b_n > a_n else a_shift


@dataclass(frozen=True)
class MeanStats(_StatsMixin):
    """A mean metric for one arm (e.g. revenue per unit).

    ``sum`` and ``sum_squares`` are Σy and Σy² over units.  The optional ``pre_*`` fields
    are the same metric measured before exposure (Σx, Σx²) and ``cross_sum`` is Σ(y·x);
    when both arms carry them, ``compare`` applies CUPED.

    With ``shift`` = s (and ``pre_shift`` = r) the sums are of y − s (and x − r) instead:
    Σ(y − s), Σ(y − s)², Σ(x − r), Σ(x − r)², Σ(y − s)(x − r).  The mean is s + Σ(y − s)/n.
    """

    kind: ClassVar[str] = "mean"

    n: int
    sum: float
    sum_squares: float
    pre_sum: float | None = None
    pre_sum_squares: float | None = None
    cross_sum: float | None = None
    shift: float = 0.0
    pre_shift: float = 0.0

    def __post_init__(self) -> None:
        name = type(self).__name__
        n = _check_count(name, "n", self.n)
        object.__setattr__(self, "n", n)
        for f in ("sum", "sum_squares", "shift", "pre_shift"):
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

    def _pre_sums(self, shift: float, pre_shift: float) -> tuple[float, float, float]:
        """(pre_sum, pre_sum_squares, cross_sum) re-expressed around new shifts."""
        assert self.pre_sum is not None and self.pre_sum_squares is not None
        assert self.cross_sum is not None
        d_y, d_x = self.shift - shift, self.pre_shift - pre_shift
        x_sum, x_sq = _reshift(self.n, self.pre_sum, self.pre_sum_squares, d_x)
        cross = self.cross_sum
        if d_x != 0.0 or d_y != 0.0:
            # Σ(y − s)(x − r) = Σ(y − s')(x − r') + d_x·Σ(y − s') + d_y·Σ(x − r') + n·d_y·d_x
            cross += d_x * self.sum + d_y * self.pre_sum + self.n * d_y * d_x
        return x_sum, x_sq, cross

    def __add__(self, other: Any) -> MeanStats:
        if not isinstance(other, MeanStats):
            return NotImplemented
        if self.has_pre != other.has_pre:
            raise ValueError(
                "MeanStats: cannot add statistics with pre-period fields to statistics without"
            )
        shift = _common_shift(self.n, self.shift, other.n, other.shift)
        a_sum, a_sq = _reshift(self.n, self.sum, self.sum_squares, self.shift - shift)
        b_sum, b_sq = _reshift(other.n, other.sum, other.sum_squares, other.shift - shift)
        pre: dict[str, float | None] = {f: None for f in _PRE_FIELDS}
        pre_shift = 0.0
        if self.has_pre:
            pre_shift = _common_shift(self.n, self.pre_shift, other.n, other.pre_shift)
            a = self._pre_sums(shift, pre_shift)
            b = other._pre_sums(shift, pre_shift)
            pre = {f: a[i] + b[i] for i, f in enumerate(_PRE_FIELDS)}
        return MeanStats(
            n=self.n + other.n,
            sum=a_sum + b_sum,
            sum_squares=a_sq + b_sq,
            shift=shift,
            pre_shift=pre_shift,
            **pre,
        )


@dataclass(frozen=True)
class RatioStats(_StatsMixin):
    """A ratio metric for one arm, e.g. revenue per order (average order value).

    Per unit there is a numerator M (revenue) and a denominator D (orders); the fields
    are ΣM, ΣM², ΣD, ΣD² and Σ(M·D) over units.  ΣD must be >= 0 (a ratio over a negative
    total has no meaning as "per order"; its delta-method test is wrong in sign).

    With ``numerator_shift`` = a the numerator sums are of M − a instead: Σ(M − a),
    Σ(M − a)² and Σ(M − a)·D.  The denominator sums are never shifted.
    """

    kind: ClassVar[str] = "ratio"

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    numerator_denominator_sum: float
    numerator_shift: float = 0.0

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
        if self.denominator_sum < 0:
            raise ValueError(
                f"{name}.denominator_sum must be >= 0, got {self.denominator_sum}; "
                "ratio metrics need a non-negative denominator total"
            )

    def _numerator_sums(self, shift: float) -> tuple[float, float, float]:
        """(numerator_sum, numerator_sum_squares, numerator_denominator_sum) around ``shift``."""
        delta = self.numerator_shift - shift
        total, squares = _reshift(self.n, self.numerator_sum, self.numerator_sum_squares, delta)
        cross = self.numerator_denominator_sum
        if delta != 0.0:
            cross += delta * self.denominator_sum
        return total, squares, cross

    def __add__(self, other: Any) -> RatioStats:
        if not isinstance(other, RatioStats):
            return NotImplemented
        shift = _common_shift(self.n, self.numerator_shift, other.n, other.numerator_shift)
        a, b = self._numerator_sums(shift), other._numerator_sums(shift)
        return RatioStats(
            n=self.n + other.n,
            numerator_sum=a[0] + b[0],
            numerator_sum_squares=a[1] + b[1],
            denominator_sum=self.denominator_sum + other.denominator_sum,
            denominator_sum_squares=self.denominator_sum_squares + other.denominator_sum_squares,
            numerator_denominator_sum=a[2] + b[2],
            numerator_shift=shift,
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
