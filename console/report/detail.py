"""A metric's detail on the report: the effect over time and the daily units per variant."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate

from assignment.models import Exposure
from experiments.models import Experiment

from .effect_chart import effect_over_time

__all__ = ["daily_units", "days_left", "effect_over_time"]  # the chart: effect_chart.py


def daily_units(*, experiment: Experiment) -> list[dict[str, Any]]:
    """Units first exposed per day and variant (by name) in the current phase, oldest day
    first."""
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
    # The variants are prefetched with the experiment (experiment_or_404); names head the table.
    variants = sorted(experiment.variants.all(), key=lambda v: (v.position, v.pk))
    names = [v.name or v.key for v in variants]
    return [
        {"day": day, "units": [counts.get(v.key, 0) for v in variants], "variants": names}
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
