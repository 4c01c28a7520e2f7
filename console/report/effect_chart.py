"""A metric's effect over time on the report: each treatment's cumulative effect and interval at
every good snapshot, drawn across the card's full width with dates on the x-axis.

The chart's x positions are percentages of its width (the SVG has no fixed width), its y
positions pixels of a fixed height; ``analysis/_effect_chart.html`` prints them. The relative
effect is drawn, or the absolute one for a metric whose relative effect is undefined.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from analysis import selectors
from analysis.engine.charts import (
    LinearScale,
    later_domain,
    line_with_band,
    nice_ticks,
    time_points,
    time_ticks,
)
from analysis.engine.contract import UnknownSchemaVersion
from analysis.words.numbers import absolute, count, localize, pct
from experiments.models import Experiment

HISTORY_LIMIT = 60
HEIGHT, TOP, BOTTOM = 260.0, 20.0, 30.0  # pixels: the plot runs from TOP to HEIGHT - BOTTOM
LEFT, RIGHT = 3.0, 97.0  # percent of the width: the first and the last snapshot
MAX_TIME_TICKS = 6


@dataclass(frozen=True)
class Reading:
    """One treatment at one snapshot, in data units."""

    moment: dt.datetime
    estimate: float
    low: float
    high: float
    units: int
    control_units: int | None


@dataclass(frozen=True)
class Point:
    """A reading placed on the chart, with the words its tooltip and the values table show."""

    x: float
    y: float
    y_lo: float
    y_hi: float
    clipped_high: bool
    clipped_low: bool
    when: str
    effect: str
    interval: str
    units: str
    control_units: str

    @property
    def clipped(self) -> bool:
        return self.clipped_high or self.clipped_low

    @property
    def anchor_end(self) -> bool:
        """The tooltip runs leftwards from points in the right half."""
        return self.x > 50

    @property
    def tip_below(self) -> bool:
        """The tooltip sits below points in the top half."""
        return self.y < (TOP + HEIGHT - BOTTOM) / 2


@dataclass(frozen=True)
class Series:
    variant: str
    line: str
    band: str
    points: list[Point]


def _readings(
    experiment: Experiment, metric: str
) -> tuple[dict[str, list[Reading]], dict[str, list[Reading]], list[dt.datetime]]:
    """Relative and absolute readings per treatment, oldest first, and the moments at which
    the analysis plan changed."""
    snapshots = list(selectors.snapshot_history(experiment=experiment, limit=HISTORY_LIMIT))
    snapshots.reverse()
    relative: dict[str, list[Reading]] = {}
    absolute_: dict[str, list[Reading]] = {}
    plan_changes: list[dt.datetime] = []
    previous_plan = None
    for snapshot in snapshots:
        try:
            results = selectors.snapshot_results(snapshot=snapshot)
        except (KeyError, TypeError, ValueError, UnknownSchemaVersion):
            continue
        moment = parse_datetime(results.as_of) or snapshot.as_of
        if previous_plan is not None and snapshot.plan != previous_plan:
            plan_changes.append(moment)
        previous_plan = snapshot.plan
        found = next((m for m in results.metrics if m.metric == metric), None)
        if found is None:
            continue
        control = next((v for v in found.variants if v.is_control), None)
        control_units = control.units if control else None
        for v in found.treatments:
            if v.effect is not None and v.ci is not None:
                relative.setdefault(v.name, []).append(
                    Reading(moment, v.effect, v.ci[0], v.ci[1], v.units, control_units)
                )
            if v.absolute_effect is not None and v.absolute_ci is not None:
                absolute_.setdefault(v.name, []).append(
                    Reading(
                        moment,
                        v.absolute_effect,
                        v.absolute_ci[0],
                        v.absolute_ci[1],
                        v.units,
                        control_units,
                    )
                )
    return relative, absolute_, plan_changes


def _moment_label(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _time_label(moment: dt.datetime, *, daily: bool) -> str:
    local = timezone.localtime(moment)
    # Translators: a date on the chart's time axis (Django date format): "Dec 7"
    day = _("M j")
    if daily:
        return formats.date_format(local, day)
    # Translators: a date and hour on the chart's time axis (Django date format): "Dec 7, 14:00"
    return formats.date_format(local, _("M j, H:i"))


def effect_over_time(*, experiment: Experiment, metric: str) -> dict[str, Any] | None:
    """Each treatment's effect and interval across the snapshot history, placed on the chart,
    with the date axis, the y ticks, where the plan changed and whether an early interval
    runs off the chart. None when no snapshot has an interval for the metric."""
    relative, absolute_, plan_moments = _readings(experiment, metric)
    is_relative = bool(relative)
    readings = relative or absolute_
    if not readings:
        return None
    show = pct if is_relative else absolute

    stamps = [r.moment.timestamp() for rows in readings.values() for r in rows]
    x_lo, x_hi = min(stamps), max(stamps)
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 3600, x_hi + 3600
    x_scale = LinearScale(x_lo, x_hi, LEFT, RIGHT)
    y_lo, y_hi = later_domain(
        [[(r.low, r.high) for r in rows] for rows in readings.values()],
        minimum=0.01 if is_relative else 1.0,
    )
    y_scale = LinearScale(y_lo, y_hi, HEIGHT - BOTTOM, TOP)

    series = []
    for name, rows in readings.items():
        xs = [r.moment.timestamp() for r in rows]
        estimates = [r.estimate for r in rows]
        lows = [r.low for r in rows]
        highs = [r.high for r in rows]
        drawn = line_with_band(xs, estimates, lows, highs, x_scale=x_scale, y_scale=y_scale)
        placed = time_points(xs, estimates, lows, highs, x_scale=x_scale, y_scale=y_scale)
        points = [
            Point(
                x=p.x,
                y=p.y,
                y_lo=p.y_lo,
                y_hi=p.y_hi,
                clipped_high=p.clipped_high,
                clipped_low=p.clipped_low,
                when=_moment_label(r.moment),
                effect=show(r.estimate),
                interval=f"[{show(r.low)}, {show(r.high)}]",
                units=count(r.units),
                control_units="—" if r.control_units is None else count(r.control_units),
            )
            for p, r in zip(placed, rows, strict=True)
        ]
        series.append(Series(variant=name, line=drawn.line, band=drawn.band, points=points))

    offset = timezone.localtime(dt.datetime.fromtimestamp(x_lo, tz=dt.UTC)).utcoffset()
    ticks = time_ticks(
        x_lo, x_hi, count=MAX_TIME_TICKS, offset=offset.total_seconds() if offset else 0.0
    )
    x_ticks = [
        {
            "x": x_scale(t),
            "label": _time_label(dt.datetime.fromtimestamp(t, tz=dt.UTC), daily=ticks.daily),
            "minor": i % 2 == 1,
        }
        for i, t in enumerate(ticks.values)
    ]
    y_ticks = nice_ticks(y_scale, count=4, percent=is_relative)
    return {
        "height": HEIGHT,
        "plot_top": TOP,
        "plot_bottom": HEIGHT - BOTTOM,
        "relative": is_relative,
        "series": series,
        "x_ticks": x_ticks,
        "y_ticks": [{"y": t.x, "label": localize(t.label)} for t in y_ticks],
        "y_zero": y_scale(0.0),
        "plan_changes": [x_scale(m.timestamp()) for m in plan_moments],
        "clipped": any(p.clipped for s in series for p in s.points),
        "x_start": dt.datetime.fromtimestamp(x_lo, tz=dt.UTC),
        "x_end": dt.datetime.fromtimestamp(x_hi, tz=dt.UTC),
    }
