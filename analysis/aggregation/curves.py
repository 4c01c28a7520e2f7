"""The points of the curve metrics: a retention curve and a value to date (LTV) curve.

A curve metric is aggregated as one point metric per point (``curve_points``), each a
``MetricSpec`` with the curve's definition and the point's days since exposure, so every
point gets the per-unit columns, sums, shifts and statistics of an ordinary metric
(``columns.METRIC_TYPES``: ``retention_curve_point``, ``value_curve_point``). A point counts
only mature units: those exposed at least ``mature_days`` before the snapshot's ``as_of``.

- retention curve: ``D<d>`` (d = 1..horizon): active (any of the activity events) in
  ``[t0 + d days, t0 + d + 1 days)``, mature after d + 1 days, as ``retention`` day d; ``W1``:
  active on any of days 1-7 (``[t0 + 1 day, t0 + 8 days)``, mature after 8 days); ``M1``: days
  1-30 (mature after 31 days). The headline point (the one the decision, health, segments and
  power read) is W1.
- value curve: ``D<k>``: the unit's value in ``[t0, t0 + k days)``, mature after k days, for
  k = 1..min(horizon, 30), then 60 and 90 (and the horizon itself) when within the horizon.
  The headline point is D7 (D<horizon> when the horizon is shorter).

The headline point comes first, so a list of point metrics still has the primary metric's
headline as its first primary entry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .columns import MetricSpec

CURVE_TYPES = ("retention_curve", "value_curve")
DEFAULT_HORIZON_DAYS = 30
RETENTION_HEADLINE = "W1"
VALUE_HEADLINE_DAY = 7


@dataclass(frozen=True)
class CurvePoint:
    """One point: its name, the days since exposure it reads (``[low_day, high_day)``) and
    the days a unit must have been exposed to count (``mature_days``)."""

    name: str
    low_day: int
    high_day: int
    mature_days: int


def _day_points(m: MetricSpec) -> list[CurvePoint]:
    horizon = int(m.horizon_days or DEFAULT_HORIZON_DAYS)
    if m.type == "retention_curve":
        days = [CurvePoint(f"D{d}", d, d + 1, d + 1) for d in range(1, horizon + 1)]
        return [
            CurvePoint(RETENTION_HEADLINE, 1, 8, 8),
            *days,
            CurvePoint("M1", 1, 31, 31),
        ]
    ks = sorted({*range(1, min(horizon, 30) + 1), *(k for k in (60, 90, horizon) if k <= horizon)})
    headline = min(VALUE_HEADLINE_DAY, horizon)
    points = [CurvePoint(f"D{k}", 0, k, k) for k in ks]
    return sorted(points, key=lambda p: p.high_day != headline)


def curve_points(m: MetricSpec) -> list[CurvePoint]:
    """A curve metric's points, the headline first ([] for other metric types)."""
    if m.type not in CURVE_TYPES:
        return []
    return _day_points(m)


def expand_curves(metrics: list[MetricSpec]) -> list[MetricSpec]:
    """The metrics as the aggregation computes them: each curve replaced by its point metrics
    (``MetricSpec.point`` set, keys ``<curve key>@<point>``), other metrics as they are."""
    out: list[MetricSpec] = []
    for m in metrics:
        points = curve_points(m)
        if not points:
            out.append(m)
            continue
        for j, p in enumerate(points):
            out.append(
                dataclasses.replace(
                    m,
                    key=f"{m.key}@{p.name}",
                    parent=m.key,
                    point=p.name,
                    point_index=j,
                    low_day=p.low_day,
                    high_day=p.high_day,
                    mature_days=p.mature_days,
                )
            )
    return out
