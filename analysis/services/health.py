"""Health checks of a snapshot, with messages that say what to do (pure).

Each check is ``{"check", "severity", "condition", "message"}``; ``condition`` is a stable key
(the same problem gives the same key in every snapshot) used to notify the owner once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .formatting import count, evidence

NO_EXPOSURE_HOURS = 24


def _check(check: str, severity: str, message: str, condition: str | None = None) -> dict:
    return {
        "check": check,
        "severity": severity,
        "condition": condition or check,
        "message": message,
    }


def _srm(srm: dict[str, Any], segments: list[dict[str, Any]]) -> list[dict]:
    if not srm["mismatch"]:
        return []
    observed = " / ".join(f"{k} {count(n)}" for k, n in srm["observed"].items())
    expected = " / ".join(f"{k} {count(round(n))}" for k, n in srm["expected"].items())
    message = (
        f"Sample ratio mismatch (p = {srm['p_value']:.2g}): observed {observed}, expected "
        f"{expected}."
    )
    worst = min(
        (s for s in segments if s["units"] > 0 and s["value"] != "other"),
        key=lambda s: s["srm"]["p_value"],
        default=None,
    )
    if worst is not None:
        message += (
            f" The imbalance is largest for {worst['attribute']} = {worst['value']} "
            f"(p = {worst['srm']['p_value']:.2g}, {count(worst['units'])} units)."
        )
    message += (
        " Results are not trustworthy until this is explained: check targeting or weight changes"
        " during the run, redirects or crashes that lose one variant's exposures, and bot"
        " filtering."
    )
    return [_check("srm", "error", message)]


def _no_exposures(inputs: dict[str, Any]) -> list[dict]:
    if inputs.get("status") != "running":
        return []
    as_of = dt.datetime.fromisoformat(inputs["as_of"])
    last = inputs["freshness"].get("last_exposure_at") or inputs.get("started_at")
    if last is None:
        return []
    hours = (as_of - dt.datetime.fromisoformat(last)).total_seconds() / 3600
    if hours < NO_EXPOSURE_HOURS:
        return []
    seen = (
        "No exposures at all"
        if not inputs["freshness"].get("last_exposure_at")
        else ("No new exposures")
    )
    return [
        _check(
            "no_exposures",
            "warning",
            f"{seen} for {hours:.0f} hours in a running experiment. Check that the app still "
            "calls the assign API for this experiment (with tracking on), that targeting still "
            "matches real users, and that coverage is above 0.",
        )
    ]


def _guardrails(metrics: list[dict[str, Any]]) -> list[dict]:
    out = []
    for m in metrics:
        if m["role"] != "guardrail":
            continue
        for row in m["variants"]:
            if not row["is_control"] and row.get("outcome") == "worse":
                out.append(
                    _check(
                        "guardrail_worse",
                        "error",
                        f"Guardrail {m['metric']} is significantly worse for {row['variant']}: "
                        f"{evidence(row)}. Consider stopping or pausing this variant and "
                        "look at the segments to see who is affected.",
                        condition=f"guardrail_worse:{m['metric']}:{row['variant']}",
                    )
                )
    return out


def _underpowered(inputs: dict[str, Any], plan: dict[str, Any], power: dict[str, Any]) -> list:
    needed = power.get("required_units_per_arm")
    if not needed or not plan.get("mde"):
        return []
    arms = max(len(inputs["variants"]), 1)
    planned = plan.get("planned_sample_size")
    planned_per_arm = planned / arms if planned else None
    done = power.get("planned_sample_reached") or inputs.get("status") in ("stopped", "concluded")
    short_plan = planned_per_arm is not None and planned_per_arm < needed
    short_now = bool(done) and power["units_per_arm"] < needed
    if not (short_plan or short_now):
        return []
    have = planned_per_arm if short_plan else power["units_per_arm"]
    what = "The planned sample" if short_plan else "The sample collected"
    current = power.get("current_mde")
    can = f" it can only detect about {current:.1%}" if current and not short_plan else ""
    return [
        _check(
            "underpowered",
            "warning",
            f"Underpowered: {what.lower()[0] + what[1:]} of {count(have)} units per variant is "
            f"below the {count(needed)} needed to detect the planned minimum effect of "
            f"{plan['mde']:.1%} on {power['metric']} at {power['power']:.0%} power;"
            f"{can or ' a real effect of that size may be missed'}. Run longer, raise coverage, "
            "or accept a larger minimum detectable effect.",
        )
    ]


def _multiple(inputs: dict[str, Any]) -> list[dict]:
    n = int(inputs["excluded"].get("multiple_variants", 0))
    if n == 0:
        return []
    excluded = int(inputs["excluded"].get("total", n))
    total = excluded + sum(int(x) for x in inputs["units"].values())
    return [
        _check(
            "multiple_exposures",
            "warning",
            f"{count(n)} units ({n / total:.2%} of exposed units) saw more than one variant and "
            "are left out of the analysis. Check that the unit id is stable across sessions and "
            "devices and that attributes used for targeting do not change during the experiment.",
        )
    ]


def health_checks(
    *,
    inputs: dict[str, Any],
    plan: dict[str, Any],
    srm: dict[str, Any],
    metrics: list[dict[str, Any]],
    segments: list[dict[str, Any]],
    power: dict[str, Any],
) -> list[dict[str, Any]]:
    """Every check that fires for this snapshot (an empty list when all is well)."""
    return [
        *_srm(srm, segments),
        *_no_exposures(inputs),
        *_guardrails(metrics),
        *_underpowered(inputs, plan, power),
        *_multiple(inputs),
    ]
