"""The decision summary of a snapshot: ship / keep control / keep running / inconclusive (pure).

Rules, in order:

1. A sample ratio mismatch at the error level (p < 0.001): keep running and investigate;
   nothing else can be trusted. At the warning level (p < 0.01) the decision stands and its
   reasons say to look.
2. A variant whose primary metric is significantly better and no guardrail of which is
   worse: ship it (the largest improvement when several qualify).
3. Every variant is significantly worse on the primary metric, or better but with a guardrail
   worse: keep control.
4. Otherwise, when the planned sample is reached (or the experiment is stopped): inconclusive;
   before that: keep running.

"Significantly better / worse" is the variant's ``outcome`` and "a guardrail worse" is
``guardrail_losses`` (significantly worse, or an absolute interval wholly on the harmful side
of zero), both from ``analysis.services.outcomes``.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.contract import (
    INCONCLUSIVE,
    KEEP_CONTROL,
    KEEP_RUNNING,
    NOT_ENOUGH_DATA,
    SHIP,
    SRM_ERROR,
    SRM_WARNING,
    Decision,
    MetricResult,
    Plan,
    PowerResult,
    SnapshotInputs,
    SrmResult,
)

from .formatting import count, evidence, guardrail_loss_text
from .outcomes import guardrail_losses

DONE_STATUSES = ("stopped", "concluded", "archived")


def _result(recommendation: str, reasons: list[str], variant: str | None = None) -> Decision:
    return Decision(recommendation=recommendation, variant=variant, reasons=tuple(reasons))


def _loss_reasons(metrics: Sequence[MetricResult]) -> dict[str, list[str]]:
    """Variant -> reasons: guardrails worse for it."""
    out: dict[str, list[str]] = {}
    for loss in guardrail_losses(metrics):
        out.setdefault(loss.variant, []).append(guardrail_loss_text(loss))
    return out


def _plan_note(inputs: SnapshotInputs, plan: Plan, power: PowerResult) -> str:
    if power.planned_sample_reached is None:
        return (
            "No planned sample size, duration or minimum detectable effect is set: keep running "
            "to a pre-planned sample rather than stopping at the first significant result."
        )
    target = plan.planned_sample_size
    needed = power.required_units_per_arm
    if target:
        return f"{count(inputs.total_units)} of the planned {count(target)} units so far."
    if needed:
        return (
            f"{count(power.units_per_arm)} of the {count(needed)} units per variant "
            "needed for the planned minimum detectable effect so far."
        )
    return "The planned duration has not elapsed yet."


def decision_summary(
    *,
    inputs: SnapshotInputs,
    plan: Plan,
    srm: SrmResult,
    metrics: Sequence[MetricResult],
    power: PowerResult,
) -> Decision:
    """The recommendation for this snapshot, with its reasons in words."""
    decision = _decision(inputs=inputs, plan=plan, srm=srm, metrics=metrics, power=power)
    if srm.level != SRM_WARNING:
        return decision
    p = "n/a" if srm.p_value is None else f"{srm.p_value:.2g}"
    return _result(
        decision.recommendation,
        [
            *decision.reasons,
            f"Sample ratio warning (p = {p}): units are split a little differently from the "
            "weights. Check assignment before acting; below p = 0.001 the decision is held.",
        ],
        decision.variant,
    )


def _decision(
    *,
    inputs: SnapshotInputs,
    plan: Plan,
    srm: SrmResult,
    metrics: Sequence[MetricResult],
    power: PowerResult,
) -> Decision:
    if srm.mismatch or srm.level == SRM_ERROR:
        p = "n/a" if srm.p_value is None else f"{srm.p_value:.2g}"
        return _result(
            KEEP_RUNNING,
            [
                f"Sample ratio mismatch (p = {p}): units are not split as the "
                "weights say, so the results cannot be trusted. Investigate assignment "
                "(targeting changes, redirects, bot filtering, exposure logging) before deciding."
            ],
        )
    primary = next((m for m in metrics if m.role == "primary"), None)
    if primary is None:
        return _result(KEEP_RUNNING, ["The experiment has no primary metric to decide on."])
    rows = primary.treatments
    name = primary.metric
    if all(r.outcome in (None, NOT_ENOUGH_DATA) for r in rows):
        return _result(
            KEEP_RUNNING,
            [f"Not enough data yet to compare {name} ({', '.join(str(r.status) for r in rows)})."],
        )
    losses = _loss_reasons(metrics)
    winners = [r for r in rows if r.is_better and r.variant not in losses]
    if winners:
        best = max(winners, key=lambda r: abs(r.effect or 0.0))
        return _result(
            SHIP,
            [
                f"{best.variant} is significantly better than control on {name}: {evidence(best)}.",
                f"No guardrail is significantly worse for {best.variant}.",
            ],
            best.variant,
        )
    blocked = [r for r in rows if r.is_better and r.variant in losses]
    losers = [r for r in rows if r.is_worse]
    if len(blocked) + len(losers) == len(rows):
        reasons = [
            f"{r.variant} is significantly worse than control on {name}: {evidence(r)}."
            for r in losers
        ]
        for r in blocked:
            reasons.append(f"{r.variant} improves {name} ({evidence(r)}) but:")
            reasons.extend(losses[r.variant])
        return _result(KEEP_CONTROL, reasons)

    flat = [r.variant for r in rows if r not in losers and r not in blocked]
    reached = power.planned_sample_reached
    if reached or inputs.status in DONE_STATUSES:
        why = "the planned sample is reached" if reached else "the experiment has stopped"
        return _result(
            INCONCLUSIVE,
            [
                f"No significant difference on {name} for {', '.join(flat)} and {why} "
                f"({count(inputs.total_units)} units). The effect, if any, is smaller than this "
                "test can see."
            ],
        )
    return _result(
        KEEP_RUNNING,
        [
            f"No significant difference on {name} yet for {', '.join(flat)}.",
            _plan_note(inputs, plan, power),
        ],
    )
