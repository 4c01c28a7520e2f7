"""The decision summary of a snapshot: ship / keep control / keep running / inconclusive (pure).

Rules, in order:

1. A sample ratio mismatch at the error level (p < 0.001): keep running and investigate;
   nothing else can be trusted. At the warning level (p < 0.01) the decision stands and its
   reasons say to look. The same holds for an extreme mismatch in one segment (Holm-adjusted
   p < 1e-6 across its dimension's segments, ``analysis.engine.srm_alarms``), which an
   exact overall split can hide.
2. A variant whose primary metric is significantly better and no guardrail of which is
   worse: ship it (the largest improvement when several qualify).
3. Every variant is significantly worse on the primary metric, or has a guardrail worse
   (whether its primary metric is better or shows no difference yet): keep control. A harmed
   guardrail is a reason to stop the variant, not to wait for more data.
4. Otherwise, when the planned sample is reached (or the experiment is stopped): inconclusive;
   before that: keep running.

"Significantly better / worse" is the variant's ``outcome`` and "a guardrail worse" is
``guardrail_losses`` (significantly worse, or an absolute interval wholly on the harmful side
of zero), both from ``analysis.engine.outcomes``.

Each reason is a coded message (``Coded``: a ``ReasonCode`` and its raw values), never a
sentence; ``analysis.words`` puts it into the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.engine.codes import ReasonCode
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
    SegmentResult,
    SnapshotInputs,
    SrmResult,
)
from analysis.engine.contract.messages import Coded
from core.vocab import FINISHED_STATUSES, primary_of

from .formatting import evidence_params, guardrail_loss_coded
from .outcomes import guardrail_losses
from .srm_alarms import extreme_segment, segment_srm_alarms


def _reason(code: ReasonCode, **params: Any) -> Coded:
    return Coded(code.value, params)


def _result(recommendation: str, reasons: Sequence[Coded], variant: str | None = None) -> Decision:
    return Decision(recommendation=recommendation, variant=variant, reason_codes=tuple(reasons))


def _loss_reasons(metrics: Sequence[MetricResult]) -> dict[str, list[Coded]]:
    """Variant -> reasons: guardrails worse for it."""
    out: dict[str, list[Coded]] = {}
    for loss in guardrail_losses(metrics):
        out.setdefault(loss.variant, []).append(guardrail_loss_coded(loss))
    return out


def _plan_note(inputs: SnapshotInputs, plan: Plan, power: PowerResult) -> Coded:
    if power.planned_sample_reached is None:
        return _reason(ReasonCode.NO_PLAN)
    target = plan.planned_sample_size
    needed = power.required_units_per_arm
    if target:
        return _reason(ReasonCode.PLANNED_SAMPLE_PROGRESS, units=inputs.total_units, planned=target)
    if needed:
        return _reason(
            ReasonCode.REQUIRED_SAMPLE_PROGRESS, units=power.units_per_arm, needed=needed
        )
    return _reason(ReasonCode.PLANNED_DURATION_RUNNING)


def decision_summary(
    *,
    inputs: SnapshotInputs,
    plan: Plan,
    srm: SrmResult,
    metrics: Sequence[MetricResult],
    power: PowerResult,
    segments: Sequence[SegmentResult] = (),
) -> Decision:
    """The recommendation for this snapshot, with its reasons as codes and values."""
    decision = _decision(
        inputs=inputs, plan=plan, srm=srm, metrics=metrics, power=power, segments=segments
    )
    if srm.level != SRM_WARNING:
        return decision
    return _result(
        decision.recommendation,
        [*decision.reason_codes, _reason(ReasonCode.SRM_WARNING, p=srm.p_value)],
        decision.variant,
    )


def _decision(
    *,
    inputs: SnapshotInputs,
    plan: Plan,
    srm: SrmResult,
    metrics: Sequence[MetricResult],
    power: PowerResult,
    segments: Sequence[SegmentResult],
) -> Decision:
    if srm.mismatch or srm.level == SRM_ERROR:
        return _result(KEEP_RUNNING, [_reason(ReasonCode.SRM_ERROR, p=srm.p_value)])
    broken = extreme_segment(segment_srm_alarms(segments))
    if broken is not None:
        return _result(
            KEEP_RUNNING,
            [
                _reason(
                    ReasonCode.SEGMENT_SRM_ERROR,
                    attribute=broken.family,
                    value=broken.value,
                    p=broken.p_adjusted,
                    units=broken.units,
                )
            ],
        )
    primary = primary_of(metrics)
    if primary is None:
        return _result(KEEP_RUNNING, [_reason(ReasonCode.NO_PRIMARY)])
    rows = primary.treatments
    name = primary.metric
    if all(r.outcome in (None, NOT_ENOUGH_DATA) for r in rows):
        statuses = [str(r.status) for r in rows]
        return _result(
            KEEP_RUNNING,
            [_reason(ReasonCode.NOT_ENOUGH_DATA, metric=name, statuses=statuses)],
        )
    losses = _loss_reasons(metrics)
    winners = [r for r in rows if r.is_better and r.variant not in losses]
    if winners:
        best = max(winners, key=lambda r: abs(r.effect or 0.0))
        return _result(
            SHIP,
            [
                _reason(
                    ReasonCode.VARIANT_BETTER,
                    variant=best.variant,
                    metric=name,
                    evidence=evidence_params(best),
                ),
                _reason(ReasonCode.NO_GUARDRAIL_WORSE, variant=best.variant),
            ],
            best.variant,
        )
    losers = [r for r in rows if r.is_worse]
    blocked = [r for r in rows if not r.is_worse and r.variant in losses]
    if len(blocked) + len(losers) == len(rows):
        reasons = [
            _reason(
                ReasonCode.VARIANT_WORSE,
                variant=r.variant,
                metric=name,
                evidence=evidence_params(r),
            )
            for r in losers
        ]
        for r in blocked:
            if r.is_better:
                reasons.append(
                    _reason(
                        ReasonCode.IMPROVES_BUT,
                        variant=r.variant,
                        metric=name,
                        evidence=evidence_params(r),
                    )
                )
            reasons.extend(losses[r.variant])
        return _result(KEEP_CONTROL, reasons)

    flat = [r.variant for r in rows if r not in losers and r not in blocked]
    # The variants that must not ship (worse, or a guardrail worse) are named beside those
    # still open.
    stopped = [
        _reason(
            ReasonCode.VARIANT_WORSE, variant=r.variant, metric=name, evidence=evidence_params(r)
        )
        for r in losers
    ]
    for r in blocked:
        stopped.extend(losses[r.variant])
    reached = power.planned_sample_reached
    if reached or inputs.status in FINISHED_STATUSES:
        code = ReasonCode.INCONCLUSIVE_REACHED if reached else ReasonCode.INCONCLUSIVE_STOPPED
        return _result(
            INCONCLUSIVE,
            [_reason(code, metric=name, variants=flat, units=inputs.total_units), *stopped],
        )
    return _result(
        KEEP_RUNNING,
        [
            _reason(ReasonCode.NO_DIFFERENCE_YET, metric=name, variants=flat),
            *stopped,
            _plan_note(inputs, plan, power),
        ],
    )
