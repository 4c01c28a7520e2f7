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
of zero), both from ``analysis.engine.outcomes``.

Each reason is written in English and, one for one, as a coded message (``Coded``: a code and
its values) that pages render in the reader's language (``analysis.web.reasons``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.engine.contract import (
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
from analysis.engine.contract.messages import Coded
from core.vocab import FINISHED_STATUSES, primary_of

from .formatting import (
    count,
    evidence,
    evidence_params,
    guardrail_loss_coded,
    guardrail_loss_text,
)
from .outcomes import guardrail_losses

# A reason: its English words and its coded form.
Reason = tuple[str, Coded]


def _reason(text: str, code: str, **params: Any) -> Reason:
    return text, Coded(code, params)


def _result(recommendation: str, reasons: Sequence[Reason], variant: str | None = None) -> Decision:
    return Decision(
        recommendation=recommendation,
        variant=variant,
        reasons=tuple(text for text, _ in reasons),
        reason_codes=tuple(coded for _, coded in reasons),
    )


def _loss_reasons(metrics: Sequence[MetricResult]) -> dict[str, list[Reason]]:
    """Variant -> reasons: guardrails worse for it."""
    out: dict[str, list[Reason]] = {}
    for loss in guardrail_losses(metrics):
        out.setdefault(loss.variant, []).append(
            (guardrail_loss_text(loss), guardrail_loss_coded(loss))
        )
    return out


def _plan_note(inputs: SnapshotInputs, plan: Plan, power: PowerResult) -> Reason:
    if power.planned_sample_reached is None:
        return _reason(
            "No planned sample size, duration or minimum detectable effect is set: keep running "
            "to a pre-planned sample rather than stopping at the first significant result.",
            "no_plan",
        )
    target = plan.planned_sample_size
    needed = power.required_units_per_arm
    if target:
        return _reason(
            f"{count(inputs.total_units)} of the planned {count(target)} units so far.",
            "planned_sample_progress",
            units=inputs.total_units,
            planned=target,
        )
    if needed:
        return _reason(
            f"{count(power.units_per_arm)} of the {count(needed)} units per variant "
            "needed for the planned minimum detectable effect so far.",
            "required_sample_progress",
            units=power.units_per_arm,
            needed=needed,
        )
    return _reason("The planned duration has not elapsed yet.", "planned_duration_running")


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
            *zip(decision.reasons, decision.reason_codes, strict=True),
            _reason(
                f"Sample ratio warning (p = {p}): units are split a little differently from the "
                "weights. Check assignment before acting; below p = 0.001 the decision is held.",
                "srm_warning",
                p=srm.p_value,
            ),
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
                _reason(
                    f"Sample ratio mismatch (p = {p}): units are not split as the "
                    "weights say, so the results cannot be trusted. Investigate assignment "
                    "(targeting changes, redirects, bot filtering, exposure logging) before "
                    "deciding.",
                    "srm_error",
                    p=srm.p_value,
                )
            ],
        )
    primary = primary_of(metrics)
    if primary is None:
        return _result(
            KEEP_RUNNING,
            [_reason("The experiment has no primary metric to decide on.", "no_primary")],
        )
    rows = primary.treatments
    name = primary.metric
    if all(r.outcome in (None, NOT_ENOUGH_DATA) for r in rows):
        statuses = [str(r.status) for r in rows]
        return _result(
            KEEP_RUNNING,
            [
                _reason(
                    f"Not enough data yet to compare {name} ({', '.join(statuses)}).",
                    "not_enough_data",
                    metric=name,
                    statuses=statuses,
                )
            ],
        )
    losses = _loss_reasons(metrics)
    winners = [r for r in rows if r.is_better and r.variant not in losses]
    if winners:
        best = max(winners, key=lambda r: abs(r.effect or 0.0))
        return _result(
            SHIP,
            [
                _reason(
                    f"{best.variant} is significantly better than control on {name}: "
                    f"{evidence(best)}.",
                    "variant_better",
                    variant=best.variant,
                    metric=name,
                    evidence=evidence_params(best),
                ),
                _reason(
                    f"No guardrail is significantly worse for {best.variant}.",
                    "no_guardrail_worse",
                    variant=best.variant,
                ),
            ],
            best.variant,
        )
    blocked = [r for r in rows if r.is_better and r.variant in losses]
    losers = [r for r in rows if r.is_worse]
    if len(blocked) + len(losers) == len(rows):
        reasons = [
            _reason(
                f"{r.variant} is significantly worse than control on {name}: {evidence(r)}.",
                "variant_worse",
                variant=r.variant,
                metric=name,
                evidence=evidence_params(r),
            )
            for r in losers
        ]
        for r in blocked:
            reasons.append(
                _reason(
                    f"{r.variant} improves {name} ({evidence(r)}) but:",
                    "improves_but",
                    variant=r.variant,
                    metric=name,
                    evidence=evidence_params(r),
                )
            )
            reasons.extend(losses[r.variant])
        return _result(KEEP_CONTROL, reasons)

    flat = [r.variant for r in rows if r not in losers and r not in blocked]
    reached = power.planned_sample_reached
    if reached or inputs.status in FINISHED_STATUSES:
        why = "the planned sample is reached" if reached else "the experiment has stopped"
        return _result(
            INCONCLUSIVE,
            [
                _reason(
                    f"No significant difference on {name} for {', '.join(flat)} and {why} "
                    f"({count(inputs.total_units)} units). The effect, if any, is smaller than "
                    "this test can see.",
                    "inconclusive_reached" if reached else "inconclusive_stopped",
                    metric=name,
                    variants=flat,
                    units=inputs.total_units,
                )
            ],
        )
    return _result(
        KEEP_RUNNING,
        [
            _reason(
                f"No significant difference on {name} yet for {', '.join(flat)}.",
                "no_difference_yet",
                metric=name,
                variants=flat,
            ),
            _plan_note(inputs, plan, power),
        ],
    )
