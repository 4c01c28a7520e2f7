"""Scales, ticks and shapes for the report's SVG charts (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearScale:
    """Maps the data interval [lo, hi] onto the pixel interval [start, end]."""

    lo: float
    hi: float
    start: float
    end: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or self.hi <= self.lo:
            raise ValueError(f"a scale needs finite lo < hi, got [{self.lo}, {self.hi}]")

    def __call__(self, value: float) -> float:
        share = (value - self.lo) / (self.hi - self.lo)
        return self.start + share * (self.end - self.start)

    def clamp(self, value: float) -> float:
        """The pixel of ``value``, held inside the drawing area."""
        return self(min(max(value, self.lo), self.hi))


@dataclass(frozen=True)
class Tick:
    value: float
    x: float
    label: str


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def nice_ticks(scale: LinearScale, *, count: int = 5, percent: bool = True) -> list[Tick]:
    """Round tick values inside the scale's domain (always including 0 when it is inside)."""
    step = _nice_step(scale.hi - scale.lo, count)
    first = math.ceil(scale.lo / step - 1e-9) * step
    ticks = []
    value = first
    shown_step = step * (100 if percent else 1)
    decimals = max(0, -math.floor(math.log10(shown_step)))
    if decimals < 12 and abs(round(shown_step, decimals) - shown_step) > shown_step * 1e-9:
        decimals += 1  # a step of 2.5 (or 0.25, ...) needs one decimal more: 2.5%, not 2%
    while value <= scale.hi + step * 1e-9:
        rounded = 0.0 if abs(value) < step * 1e-9 else round(value, 12)
        if percent:
            label = f"{rounded * 100:+.{decimals}f}%" if rounded else "0%"
        else:
            label = f"{rounded:.{decimals}f}"
        ticks.append(Tick(value=rounded, x=scale(rounded), label=label))
        value += step
    return ticks


def shared_domain(intervals: Iterable[tuple[float | None, float | None]]) -> tuple[float, float]:
    """A symmetric domain around zero that holds every finite interval, with 10% room, so bars
    of one table are drawn on one scale. Empty or degenerate input gives [-1%, +1%]."""
    reach = 0.0
    for lo, hi in intervals:
        for end in (lo, hi):
            if end is not None and math.isfinite(end):
                reach = max(reach, abs(end))
    reach = reach * 1.1 if reach > 0 else 0.01
    return -reach, reach


@dataclass(frozen=True)
class IntervalBar:
    """An interval drawn around zero: the bar from ``x_lo`` to ``x_hi``, the point estimate at
    ``x_mid``, the zero line at ``x_zero``; ``tone`` is better / worse / inconclusive and
    ``clipped_lo``/``clipped_hi`` say that an end runs past the drawn domain."""

    x_lo: float
    x_hi: float
    x_mid: float
    x_zero: float
    tone: str
    clipped_lo: bool
    clipped_hi: bool

    @property
    def width(self) -> float:
        return self.x_hi - self.x_lo


def interval_bar(
    scale: LinearScale,
    *,
    lo: float,
    hi: float,
    estimate: float,
    significant: bool,
    higher_is_better: bool,
) -> IntervalBar:
    """Geometry of one effect's interval on ``scale``. Significant and on the good side of zero
    (by the metric's direction) is ``better``; significant on the bad side is ``worse``."""
    if lo > hi:
        raise ValueError(f"interval lower bound {lo} is above its upper bound {hi}")
    if significant:
        tone = "better" if (estimate > 0) == higher_is_better else "worse"
    else:
        tone = "inconclusive"
    return IntervalBar(
        x_lo=scale.clamp(lo),
        x_hi=scale.clamp(hi),
        x_mid=scale.clamp(estimate),
        x_zero=scale(0.0) if scale.lo <= 0 <= scale.hi else scale.clamp(0.0),
        tone=tone,
        clipped_lo=lo < scale.lo,
        clipped_hi=hi > scale.hi,
    )


@dataclass(frozen=True)
class Band:
    """A line (``line`` path) and its interval band (``band`` closed path) in pixel space."""

    line: str
    band: str
    points: list[tuple[float, float]]


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def line_with_band(
    xs: Sequence[float],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    x_scale: LinearScale,
    y_scale: LinearScale,
) -> Band:
    """SVG path data for the effect over time: the estimates as a line and the intervals as a
    band (upper edge left to right, lower edge back)."""
    if not (len(xs) == len(estimates) == len(lows) == len(highs)):
        raise ValueError("xs, estimates, lows and highs must have the same length")
    if not xs:
        return Band(line="", band="", points=[])
    points = [(x_scale(x), y_scale.clamp(y)) for x, y in zip(xs, estimates, strict=True)]
    line = "M" + " L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in points)
    upper = [(x_scale(x), y_scale.clamp(h)) for x, h in zip(xs, highs, strict=True)]
    lower = [(x_scale(x), y_scale.clamp(lo)) for x, lo in zip(xs, lows, strict=True)]
    edge = upper + lower[::-1]
    band = "M" + " L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in edge) + " Z"
    return Band(line=line, band=band, points=points)
