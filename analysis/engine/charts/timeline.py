"""The effect over time: a y domain that the later snapshots set, round moments for the date
axis, and each snapshot's point with its band ends and whether they run off the chart.

Early snapshots have few units, so their intervals are wide; drawn to scale, the first band
flattens every later one. The y domain is therefore set by the later half of each series,
and a band that runs past it is drawn to the edge and marked as clipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .geometry import LinearScale

HOUR = 3600.0
DAY = 24 * HOUR
# Steps for the date axis: whole hours over short spans, whole days (weeks, months) beyond.
TIME_STEPS = tuple(h * HOUR for h in (1, 2, 3, 6, 12)) + tuple(
    d * DAY for d in (1, 2, 3, 7, 14, 28, 56, 91, 182, 364)
)


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def later_domain(
    series: Sequence[Sequence[tuple[float, float]]],
    *,
    room: float = 0.1,
    minimum: float = 0.01,
) -> tuple[float, float]:
    """The y domain for intervals over time: zero and the intervals of the later half of each
    series (the last ceil(n/2) of n points, oldest first), with ``room`` of the span on either
    side. Earlier, wider intervals may run past it. With nothing to hold, or nothing but
    zero, the domain is [-minimum, +minimum]."""
    lo = hi = 0.0
    for intervals in series:
        for low, high in intervals[len(intervals) // 2 :]:
            if _finite(low, high):
                lo, hi = min(lo, low), max(hi, high)
    span = hi - lo
    if span <= 0:
        return -minimum, minimum
    return lo - span * room, hi + span * room


@dataclass(frozen=True)
class TimeTicks:
    """Round moments (seconds since the epoch) for the date axis, ``step`` seconds apart; a
    step of a day or more means dates alone, a shorter one dates with the hour."""

    values: list[float]
    step: float

    @property
    def daily(self) -> bool:
        return self.step >= DAY


def time_ticks(lo: float, hi: float, *, count: int = 6, offset: float = 0.0) -> TimeTicks:
    """At most ``count`` round moments inside [lo, hi]: whole hours over a short span, whole
    days (or weeks) over a longer one, counted from midnight at ``offset`` seconds east of
    UTC. The smallest step that keeps to ``count`` ticks is chosen."""
    if not _finite(lo, hi) or hi < lo:
        raise ValueError(f"time ticks need finite lo <= hi, got [{lo}, {hi}]")
    count = max(count, 1)
    for step in TIME_STEPS:
        first = math.ceil((lo + offset) / step) * step - offset
        values = []
        moment = first
        while moment <= hi:
            values.append(moment)
            moment += step
        if len(values) <= count:
            return TimeTicks(values=values, step=step)
    return TimeTicks(values=[lo], step=hi - lo or DAY)


@dataclass(frozen=True)
class TimePoint:
    """One snapshot on the chart: ``x`` on the time scale, ``y`` the estimate and
    ``y_lo``/``y_hi`` the interval's ends on the y scale (held inside the drawing area);
    ``clipped_high``/``clipped_low`` say that the interval (or the estimate) runs past the
    top or the bottom of the chart."""

    x: float
    y: float
    y_lo: float
    y_hi: float
    clipped_high: bool
    clipped_low: bool

    @property
    def clipped(self) -> bool:
        return self.clipped_high or self.clipped_low


def time_points(
    xs: Sequence[float],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    x_scale: LinearScale,
    y_scale: LinearScale,
) -> list[TimePoint]:
    """Each snapshot's point and interval ends, clipped to the y domain and marked where
    they run past it (the y scale may run either way: pixels grow downwards)."""
    if not (len(xs) == len(estimates) == len(lows) == len(highs)):
        raise ValueError("xs, estimates, lows and highs must have the same length")
    points = []
    for x, estimate, low, high in zip(xs, estimates, lows, highs, strict=True):
        points.append(
            TimePoint(
                x=x_scale(x),
                y=y_scale.clamp(estimate),
                y_lo=y_scale.clamp(low),
                y_hi=y_scale.clamp(high),
                clipped_high=max(high, estimate) > y_scale.hi,
                clipped_low=min(low, estimate) < y_scale.lo,
            )
        )
    return points
