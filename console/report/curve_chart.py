"""A curve metric on its detail page (retention curve, value to date): each arm's value by day
since exposure with its interval band, each treatment's effect by day with its interval, and
the values table (every point, W1 and M1 included) that works without JavaScript.

Read from the newest good snapshot (its typed results and inputs). The x positions are
percentages of the chart's width (the days since exposure), the y positions pixels of a fixed
height, as in ``effect_chart.py``; the scales, ticks and paths are
``analysis.engine.charts``'. An arm's interval is its mean +- z * its standard error at the
plan's level (``arm_moments``); the effect's is the engine's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from django.utils.translation import gettext as _

from analysis import selectors
from analysis.engine.charts import LinearScale, line_with_band, nice_ticks
from analysis.engine.contract import (
    MetricResult,
    PointResult,
    SnapshotInputs,
    UnknownSchemaVersion,
)
from analysis.engine.stats.moments import arm_moments
from analysis.engine.value_curve import ADDED, FADED, ValueCurveReading, value_curve_readings
from analysis.words.numbers import absolute, count, localize, pct, pvalue, share
from experiments.models import Experiment

HEIGHT, TOP, BOTTOM = 220.0, 16.0, 28.0  # pixels: the plot runs from TOP to HEIGHT - BOTTOM
LEFT, RIGHT = 3.0, 97.0  # percent of the width: the first and the last day


@dataclass(frozen=True)
class Series:
    """One line with its band (path data in the 0..100 x HEIGHT view box) and its points."""

    variant: str
    line: str
    band: str
    points: list[dict[str, Any]]


def _y_scale(lo: float, hi: float) -> LinearScale:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        lo, hi = (lo - 1.0, lo + 1.0) if math.isfinite(lo) else (0.0, 1.0)
    return LinearScale(lo, hi, HEIGHT - BOTTOM, TOP)


def _day_points(metric: MetricResult) -> list[PointResult]:
    """The points drawn on the x-axis: one a day (W1 and M1 are in the table only)."""
    daily = [p for p in metric.points if p.point.startswith("D")]
    return sorted(daily, key=lambda p: p.day_to)


def _x(p: PointResult, rate: bool) -> int:
    return p.day_from if rate else p.day_to


def _arm_interval(stats: Any, z: float) -> tuple[float, float, float] | None:
    if stats is None or stats.n < 2:
        return None
    m = arm_moments(stats)
    half = z * math.sqrt(max(m.variance, 0.0) / m.n)
    return m.mean, m.mean - half, m.mean + half


def _panel(
    series: dict[str, list[tuple[float, float, float, float, dict[str, Any]]]],
    x_scale: LinearScale,
    *,
    percent: bool,
    from_zero: bool,
    robust: bool = False,
) -> dict[str, Any] | None:
    """A panel of lines with bands: ``series`` maps a variant to (x, estimate, low, high,
    point words) tuples."""
    estimates = [r[1] for rows in series.values() for r in rows if math.isfinite(r[1])]
    if not estimates:
        return None
    lows = sorted(r[2] for rows in series.values() for r in rows if math.isfinite(r[2]))
    highs = sorted(r[3] for rows in series.values() for r in rows if math.isfinite(r[3]))
    if robust:  # a few wide intervals (thin late days) would flatten the rest: cut them
        lo = min(min(estimates), _quantile(lows, 0.1), 0.0)
        hi = max(max(estimates), _quantile(highs, 0.9), 0.0)
    else:
        lo, hi = min([*estimates, *lows]), max([*estimates, *highs])
    if from_zero:
        lo = min(lo, 0.0)
    room = (hi - lo) * 0.08 or abs(hi) * 0.1 or 0.01
    y = _y_scale(lo if from_zero and lo >= 0 else lo - room, hi + room)
    clipped = any(v < y.lo for v in lows) or any(v > y.hi for v in highs)
    out = []
    for variant, rows in series.items():
        band = line_with_band(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            x_scale=x_scale,
            y_scale=y,
        )
        points = [{**r[4], "x": px, "y": py} for r, (px, py) in zip(rows, band.points, strict=True)]
        out.append(Series(variant=variant, line=band.line, band=band.band, points=points))
    if percent and from_zero:  # a rate's ticks are shares, not signed effects
        ticks = [{"y": t.x, "label": share(t.value, 0)} for t in nice_ticks(y, count=4)]
    else:
        ticks = [
            {"y": t.x, "label": localize(t.label)} for t in nice_ticks(y, count=4, percent=percent)
        ]
    zero = y(0.0) if y.lo <= 0.0 <= y.hi else None
    return {"series": out, "y_ticks": ticks, "y_zero": zero, "clipped": clipped}


def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values`` (the nearest rank below)."""
    return values[min(len(values) - 1, max(0, int(q * (len(values) - 1))))]


def curve_chart(*, experiment: Experiment, metric: str) -> dict[str, Any] | None:
    """The curve metric ``metric`` of the newest good snapshot, placed on the charts; None when
    the metric is not a curve or no snapshot has its points."""
    snapshot = selectors.snapshot_history(experiment=experiment, limit=1).first()
    if snapshot is None:
        return None
    try:
        results = selectors.snapshot_results(snapshot=snapshot)
    except UnknownSchemaVersion:
        return None
    found = next((m for m in results.metrics if m.metric == metric), None)
    if found is None or not found.points:
        return None
    inputs = SnapshotInputs.from_dict(snapshot.inputs)
    stats = {p.point: p.stats for p in inputs.metric(metric).points}
    rate = found.type == "retention_curve"
    z = NormalDist().inv_cdf(1.0 - results.plan.alpha / 2.0)
    fmt = (lambda v: share(v)) if rate else (lambda v: localize(f"{v:,.2f}"))
    days = _day_points(found)
    if not days:
        return None
    first, last = _x(days[0], rate), _x(days[-1], rate)
    x_scale = LinearScale(first, last if last > first else first + 1, LEFT, RIGHT)
    arms: dict[str, list[Any]] = {}
    effects: dict[str, list[Any]] = {}
    for p in days:
        for v in p.variants:
            ci = _arm_interval(stats[p.point].get(v.variant), z)
            if ci is not None:
                words = {"day": p.point, "value": fmt(ci[0]), "units": count(v.units)}
                arms.setdefault(v.name, []).append((_x(p, rate), *ci, words))
            if not v.is_control and v.effect is not None and v.ci is not None:
                words = {"day": p.point, "value": pct(v.effect), "interval": _interval(v.ci)}
                effects.setdefault(v.name, []).append(
                    (_x(p, rate), v.effect, v.ci[0], v.ci[1], words)
                )
    x_ticks = [
        {"x": x_scale(d), "label": f"D{d}"}
        for d in _x_ticks(first, last, [_x(p, rate) for p in days])
    ]
    rows = []
    ordered = sorted(
        found.points,
        key=lambda p: (p.point != found.headline, len(p.point) > 1 and p.point[0] != "D", p.day_to),
    )
    for p in ordered:
        control = next(v for v in p.variants if v.is_control)
        for v in p.variants:
            if v.is_control:
                continue
            rows.append(
                {
                    "point": p.point,
                    "headline": p.point == found.headline,
                    "variant": v.name,
                    "control": _value(fmt, control.mean, control.units),
                    "treatment": _value(fmt, v.mean, v.units),
                    "effect": pct(v.effect),
                    "interval": "" if v.ci is None else _interval(v.ci),
                    "p_value": pvalue(v.p_value),
                }
            )
    return {
        "rate": rate,
        "headline": found.headline,
        "height": HEIGHT,
        "plot_top": TOP,
        "plot_bottom": HEIGHT - BOTTOM,
        "x_ticks": x_ticks,
        "panels": [
            {
                "data": _panel(arms, x_scale, percent=rate, from_zero=True),
                "offset": 0,
                "caption": _("Each arm, with its interval")
                if rate
                else _("Each arm's value per unit to date, with its interval"),
            },
            {
                "data": _panel(effects, x_scale, percent=True, from_zero=False, robust=True),
                "offset": 1,
                "caption": _("Relative effect by day, with its interval"),
            },
        ],
        "rows": rows,
        "control": next(v.name for v in found.variants if v.is_control),
        "readings": [] if rate else value_curve_sentences([found]),
        "as_of": results.as_of,
    }


def _value(fmt: Any, mean: float | None, units: int) -> str:
    """An arm's value at a point and its mature units: '25.3% (150)'."""
    return f"{'–' if mean is None else fmt(mean)} ({count(units)})"


def _interval(ci: tuple[float | None, float | None] | list[Any]) -> str:
    lo, hi = ci[0], ci[1]
    return f"[{pct(lo)}, {pct(hi)}]"


def _x_ticks(first: int, last: int, xs: list[int]) -> list[int]:
    """Every day for a short curve; else the first day, round steps (5, 10, ...) and the last
    day, none closer to the last than half a step."""
    if last - first <= 10:
        return xs
    step = max(5, math.ceil((last - first) / 6 / 5) * 5)
    inner = [d for d in range(step, last, step) if d > first and last - d >= step / 2]
    return [first, *inner, last]


def reading_sentence(reading: ValueCurveReading, variant: str) -> str:
    """A value curve's reading in words (``analysis.engine.value_curve``)."""
    values = {
        "variant": variant,
        "early": reading.early,
        "late": reading.late or "",
        "early_diff": absolute(reading.early_effect),
        "late_diff": absolute(reading.late_effect),
        "late_interval": "" if reading.late_ci is None else _abs_interval(reading.late_ci),
    }
    if reading.verdict == ADDED:
        return (
            _(
                "%(variant)s is still ahead at %(late)s (%(late_diff)s per unit, "
                "%(late_interval)s): it added value, not only moved it earlier."
            )
            % values
        )
    if reading.verdict == FADED:
        return (
            _(
                "%(variant)s led at %(early)s (%(early_diff)s per unit) but by %(late)s the "
                "difference is %(late_diff)s (%(late_interval)s): it may have pulled purchases "
                "forward rather than added to them."
            )
            % values
        )
    if not reading.late:
        return (
            _(
                "%(variant)s: no point after %(early)s is mature yet, so whether it adds value "
                "or pulls it forward is not known."
            )
            % values
        )
    return (
        _(
            "%(variant)s: not clear yet whether it adds value or pulls it forward "
            "(%(early)s: %(early_diff)s per unit; %(late)s: %(late_diff)s, %(late_interval)s)."
        )
        % values
    )


def _abs_interval(ci: tuple[float | None, float | None]) -> str:
    return f"[{absolute(ci[0])}, {absolute(ci[1])}]"


def value_curve_sentences(metrics: list[MetricResult]) -> list[dict[str, str]]:
    """Each value curve's reading per treatment: the metric's key and name and the sentence."""
    names = {m.metric: m.name for m in metrics}
    variants = {v.variant: v.name for m in metrics for v in m.variants}
    return [
        {
            "metric": r.metric,
            "name": names[r.metric],
            "verdict": r.verdict,
            "sentence": reading_sentence(r, variants.get(r.variant, r.variant)),
        }
        for r in value_curve_readings(metrics)
    ]
