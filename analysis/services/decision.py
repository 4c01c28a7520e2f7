"""The decision summary of a snapshot: ship / keep control / keep running / inconclusive (pure).

Rules, in order:

1. A sample ratio mismatch: keep running and investigate; nothing else can be trusted.
2. A variant whose primary metric is significantly better and no guardrail of which is
   significantly worse: ship it (the largest improvement when several qualify).
3. Every variant is significantly worse on the primary metric, or better but with a guardrail
   significantly worse: keep control.
4. Otherwise, when the planned sample is reached (or the experiment is stopped): inconclusive;
   before that: keep running.
"""

from __future__ import annotations

from typing import Any

from .formatting import count, evidence

SHIP, KEEP_CONTROL, KEEP_RUNNING, INCONCLUSIVE = (
    "ship",
    "keep_control",
    "keep_running",
    "inconclusive",
)
DONE_STATUSES = ("stopped", "concluded", "archived")


def _result(recommendation: str, reasons: list[str], variant: str | None = None) -> dict[str, Any]:
    return {"recommendation": recommendation, "variant": variant, "reasons": reasons}


def _guardrail_losses(metrics: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Variant -> reasons: guardrails significantly worse for it."""
    out: dict[str, list[str]] = {}
    for m in metrics:
        if m["role"] != "guardrail":
            continue
        for row in m["variants"]:
            if not row["is_control"] and row.get("outcome") == "worse":
                out.setdefault(row["variant"], []).append(
                    f"Guardrail {m['metric']} is significantly worse for {row['variant']}: "
                    f"{evidence(row)}."
                )
    return out


def decision_summary(
    *,
    inputs: dict[str, Any],
    plan: dict[str, Any],
    srm: dict[str, Any],
    metrics: list[dict[str, Any]],
    power: dict[str, Any],
) -> dict[str, Any]:
    """The recommendation for this snapshot, with its reasons in words."""
    if srm["mismatch"]:
        return _result(
            KEEP_RUNNING,
            [
                f"Sample ratio mismatch (p = {srm['p_value']:.2g}): units are not split as the "
                "weights say, so the results cannot be trusted. Investigate assignment "
                "(targeting changes, redirects, bot filtering, exposure logging) before deciding."
            ],
        )
    primary = next((m for m in metrics if m["role"] == "primary"), None)
    if primary is None:
        return _result(KEEP_RUNNING, ["The experiment has no primary metric to decide on."])
    rows = [r for r in primary["variants"] if not r["is_control"]]
    name = primary["metric"]
    if all(r["status"] != "ok" for r in rows):
        return _result(
            KEEP_RUNNING,
            [f"Not enough data yet to compare {name} ({', '.join(r['status'] for r in rows)})."],
        )
    losses = _guardrail_losses(metrics)
    winners = [r for r in rows if r["outcome"] == "better" and r["variant"] not in losses]
    if winners:
        best = max(winners, key=lambda r: abs(r["effect"]))
        return _result(
            SHIP,
            [
                f"{best['variant']} is significantly better than control on {name}: "
                f"{evidence(best)}.",
                f"No guardrail is significantly worse for {best['variant']}.",
            ],
            best["variant"],
        )
    blocked = [r for r in rows if r["outcome"] == "better" and r["variant"] in losses]
    losers = [r for r in rows if r["outcome"] == "worse"]
    if len(blocked) + len(losers) == len(rows):
        reasons = [
            f"{r['variant']} is significantly worse than control on {name}: {evidence(r)}."
            for r in losers
        ]
        for r in blocked:
            reasons.append(f"{r['variant']} improves {name} ({evidence(r)}) but:")
            reasons.extend(losses[r["variant"]])
        return _result(KEEP_CONTROL, reasons)

    flat = [r["variant"] for r in rows if r not in losers and r not in blocked]
    reached = power.get("planned_sample_reached")
    units = sum(int(n) for n in inputs["units"].values())
    if reached or inputs.get("status") in DONE_STATUSES:
        why = "the planned sample is reached" if reached else "the experiment has stopped"
        return _result(
            INCONCLUSIVE,
            [
                f"No significant difference on {name} for {', '.join(flat)} and {why} "
                f"({count(units)} units). The effect, if any, is smaller than this test can see."
            ],
        )
    if reached is None:
        plan_note = (
            "No planned sample size, duration or minimum detectable effect is set: keep running "
            "to a pre-planned sample rather than stopping at the first significant result."
        )
    else:
        target = plan.get("planned_sample_size")
        needed = power.get("required_units_per_arm")
        if target:
            plan_note = f"{count(units)} of the planned {count(target)} units so far."
        elif needed:
            plan_note = (
                f"{count(power['units_per_arm'])} of the {count(needed)} units per variant "
                "needed for the planned minimum detectable effect so far."
            )
        else:
            plan_note = "The planned duration has not elapsed yet."
    return _result(
        KEEP_RUNNING,
        [f"No significant difference on {name} yet for {', '.join(flat)}.", plan_note],
    )
