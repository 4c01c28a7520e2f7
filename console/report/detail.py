"""A metric's detail on the report: the effect over time and the daily units per variant."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils.dateparse import parse_datetime

from analysis import selectors
from analysis.engine.charts import LinearScale, line_with_band, shared_domain
from analysis.engine.contract import UnknownSchemaVersion
from assignment.models import Exposure
from experiments.models import Experiment

from .rows import axis_ticks

WIDTH, HEIGHT, PAD = 640.0, 200.0, 24.0
HISTORY_LIMIT = 60


@dataclass(frozen=True)
class Series:
    variant: str
    line: str
    band: str
    points: list[tuple[float, float]]


def effect_over_time(*, experiment: Experiment, metric: str) -> dict[str, Any] | None:
    """Each treatment's effect and interval across the snapshot history, in pixels, with the
    x positions where the analysis plan changed. None when fewer than one point exists."""
    snapshots = list(selectors.snapshot_history(experiment=experiment, limit=HISTORY_LIMIT))
    snapshots.reverse()
    points: dict[str, list[tuple[float, float, float, float]]] = {}
    plan_changes: list[float] = []
    previous_plan = None
    for snapshot in snapshots:
        try:
            results = selectors.snapshot_results(snapshot=snapshot)
        except (KeyError, TypeError, ValueError, UnknownSchemaVersion):
            continue
        moment = parse_datetime(results.as_of) or snapshot.as_of
        x = moment.timestamp()
        if previous_plan is not None and snapshot.plan != previous_plan:
            plan_changes.append(x)
        previous_plan = snapshot.plan
        found = next((m for m in results.metrics if m.metric == metric), None)
        for v in found.treatments if found else ():
            if v.effect is not None and v.ci is not None:
                points.setdefault(v.name, []).append((x, v.effect, v.ci[0], v.ci[1]))
    all_points = [p for series in points.values() for p in series]
    if not all_points:
        return None
    xs = [p[0] for p in all_points]
    x_lo, x_hi = min(xs), max(xs)
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 3600, x_hi + 3600
    x_scale = LinearScale(x_lo, x_hi, PAD * 2, WIDTH - PAD)
    y_lo, y_hi = shared_domain((p[2], p[3]) for p in all_points)
    y_scale = LinearScale(y_lo, y_hi, HEIGHT - PAD, PAD)
    series = []
    for name, rows in points.items():
        band = line_with_band(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            x_scale=x_scale,
            y_scale=y_scale,
        )
        series.append(Series(variant=name, line=band.line, band=band.band, points=band.points))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "series": series,
        "y_ticks": axis_ticks(y_scale),
        "y_zero": y_scale(0.0),
        "x_start": dt.datetime.fromtimestamp(x_lo, tz=dt.UTC),
        "x_end": dt.datetime.fromtimestamp(x_hi, tz=dt.UTC),
        "plan_changes": [x_scale(x) for x in plan_changes],
        "snapshots": len(snapshots),
    }


def daily_units(*, experiment: Experiment) -> list[dict[str, Any]]:
    """Units first exposed per day and variant in the current phase, oldest day first."""
    rows = (
        Exposure.objects.filter(experiment=experiment, phase=experiment.phase)
        .annotate(day=TruncDate("first_exposed_at"))
        .values("day", "variant__key")
        .annotate(units=Count("id"))
        .order_by("day", "variant__key")
    )
    days: dict[Any, dict[str, int]] = {}
    for row in rows:
        days.setdefault(row["day"], {})[row["variant__key"]] = row["units"]
    variants = list(experiment.variants.order_by("position").values_list("key", flat=True))
    return [
        {"day": day, "units": [counts.get(key, 0) for key in variants], "variants": variants}
        for day, counts in days.items()
    ]


def days_left(
    *, experiment: Experiment, as_of: dt.datetime, units_per_arm: int, required_per_arm: int
) -> float | None:
    """Days until the planned sample per variant at the last 7 days' traffic (None when no
    traffic came in those days); 0 once the sample is reached."""
    if units_per_arm >= required_per_arm:
        return 0.0
    recent = Exposure.objects.filter(
        experiment=experiment,
        phase=experiment.phase,
        first_exposed_at__gt=as_of - dt.timedelta(days=7),
        first_exposed_at__lte=as_of,
    ).count()
    arms = experiment.variants.count() or 1
    per_arm_per_day = recent / 7 / arms
    if per_arm_per_day <= 0:
        return None
    return (required_per_arm - units_per_arm) / per_arm_per_day
