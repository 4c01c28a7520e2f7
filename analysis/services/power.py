"""Power of the primary metric against the plan's minimum detectable effect (pure)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from analysis.stats import minimum_detectable_effect, sample_size, stats_from_dict
from analysis.stats.inputs import ProportionStats
from analysis.stats.moments import arm_moments

POWER = 0.8


def _days(inputs: dict[str, Any]) -> float | None:
    if not inputs.get("started_at"):
        return None
    start = dt.datetime.fromisoformat(inputs["started_at"])
    return (dt.datetime.fromisoformat(inputs["as_of"]) - start).total_seconds() / 86_400


def _reached(inputs: dict[str, Any], plan: dict[str, Any], required: float | None) -> bool | None:
    """Whether the planned sample is reached: the planned total units, else the planned
    duration, else the units per arm the planned MDE needs; None when nothing is planned."""
    total = sum(int(n) for n in inputs["units"].values())
    per_arm = min((int(n) for n in inputs["units"].values()), default=0)
    if plan.get("planned_sample_size"):
        return total >= int(plan["planned_sample_size"])
    days = _days(inputs)
    if plan.get("planned_duration_days") and days is not None:
        return days >= float(plan["planned_duration_days"])
    if required is not None:
        return per_arm >= required
    return None


def primary_power(
    inputs: dict[str, Any], plan: dict[str, Any], primary: dict[str, Any] | None
) -> dict[str, Any]:
    """Units per arm needed for the planned MDE, and the MDE the current sample gives."""
    out: dict[str, Any] = {
        "metric": primary["metric"] if primary else None,
        "planned_mde": plan.get("mde"),
        "power": POWER,
        "units_per_arm": min((int(n) for n in inputs["units"].values()), default=0),
        "required_units_per_arm": None,
        "current_mde": None,
        "planned_sample_reached": None,
    }
    if primary is None:
        out["planned_sample_reached"] = _reached(inputs, plan, None)
        return out
    m = next(x for x in inputs["metrics"] if x["metric"] == primary["metric"])
    control = next(v["key"] for v in inputs["variants"] if v["is_control"])
    stats = stats_from_dict(m["stats"][control])
    arms = [stats_from_dict(s).n for s in m["stats"].values()]
    n = min(arms, default=0)
    out["units_per_arm"] = n
    required = None
    if stats.n >= 2 and not (hasattr(stats, "denominator_sum") and stats.denominator_sum == 0):
        moments = arm_moments(stats)
        baseline = moments.mean
        kind = "proportion" if isinstance(stats, ProportionStats) else "mean"
        std = None if kind == "proportion" else math.sqrt(moments.variance)
        usable = baseline != 0 and (kind == "proportion" and 0 < baseline < 1 or std)
        if usable:
            mde = plan.get("mde")
            alpha = plan["alpha"]
            if mde:
                target = baseline + abs(baseline) * mde
                if kind == "mean" or target < 1:
                    required = sample_size(
                        kind, baseline, target, std=std, alpha=alpha, power=POWER
                    )
            if n >= 2:
                try:
                    lift = minimum_detectable_effect(
                        kind, baseline, n, std=std, alpha=alpha, power=POWER
                    )
                    out["current_mde"] = lift / abs(baseline)
                except ValueError:
                    out["current_mde"] = None
    out["required_units_per_arm"] = math.ceil(required) if required is not None else None
    out["planned_sample_reached"] = _reached(inputs, plan, out["required_units_per_arm"])
    return out
