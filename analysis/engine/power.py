"""Power of the primary metric against the plan's minimum detectable effect (pure)."""

from __future__ import annotations

import math

from analysis.engine.contract import MetricResult, Plan, PowerResult, SnapshotInputs
from analysis.engine.contract.convert import num
from analysis.engine.stats import minimum_detectable_effect, sample_size
from analysis.engine.stats.inputs import ProportionStats, RatioStats
from analysis.engine.stats.moments import arm_moments

POWER = 0.8


def _days(inputs: SnapshotInputs) -> float | None:
    start = inputs.started_at_datetime
    if start is None:
        return None
    return (inputs.as_of_datetime - start).total_seconds() / 86_400


def _reached(inputs: SnapshotInputs, plan: Plan, required: int | None) -> bool | None:
    """Whether the planned sample is reached: the planned total units, else the planned
    duration, else the units per arm the planned MDE needs; None when nothing is planned."""
    per_arm = min(inputs.units.values(), default=0)
    if plan.planned_sample_size:
        return inputs.total_units >= int(plan.planned_sample_size)
    days = _days(inputs)
    if plan.planned_duration_days and days is not None:
        return days >= float(plan.planned_duration_days)
    if required is not None:
        return per_arm >= required
    return None


def primary_power(
    *, inputs: SnapshotInputs, plan: Plan, primary: MetricResult | None
) -> PowerResult:
    """Units per arm needed for the planned MDE, and the MDE the current sample gives."""
    if primary is None:
        return PowerResult(
            metric=None,
            planned_mde=plan.mde,
            power=POWER,
            units_per_arm=min(inputs.units.values(), default=0),
            required_units_per_arm=None,
            current_mde=None,
            planned_sample_reached=_reached(inputs, plan, None),
        )
    m = inputs.metric(primary.metric)
    stats = m.stats[inputs.control.key]
    n = min((s.n for s in m.stats.values()), default=0)
    required = None
    current_mde = None
    if stats.n >= 2 and not (isinstance(stats, RatioStats) and stats.denominator_sum == 0):
        moments = arm_moments(stats)
        baseline = moments.mean
        kind = "proportion" if isinstance(stats, ProportionStats) else "mean"
        std = None if kind == "proportion" else math.sqrt(moments.variance)
        usable = baseline != 0 and (kind == "proportion" and 0 < baseline < 1 or std)
        if usable:
            if plan.mde:
                target = baseline + abs(baseline) * plan.mde
                if kind == "mean" or target < 1:
                    required = sample_size(
                        kind, baseline, target, std=std, alpha=plan.alpha, power=POWER
                    )
            if n >= 2:
                try:
                    lift = minimum_detectable_effect(
                        kind, baseline, n, std=std, alpha=plan.alpha, power=POWER
                    )
                    current_mde = lift / abs(baseline)
                except ValueError:
                    current_mde = None
    required_per_arm = math.ceil(required) if required is not None else None
    return PowerResult(
        metric=primary.metric,
        planned_mde=plan.mde,
        power=POWER,
        units_per_arm=n,
        required_units_per_arm=required_per_arm,
        current_mde=num(current_mde),
        planned_sample_reached=_reached(inputs, plan, required_per_arm),
    )
