"""Health checks of a snapshot, with messages that say what to do (pure).

Each check is a ``HealthCheck`` (``check``, ``severity``, ``condition``, ``message``);
``condition`` is a stable key (the same problem gives the same key in every snapshot) used to
notify the owner once. The message is in English and also coded (``Coded``: a code and its
values) for pages in other languages (``analysis.web.reasons``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from analysis.engine.contract import (
    SRM_ERROR,
    SRM_WARNING,
    HealthCheck,
    MetricResult,
    Plan,
    PowerResult,
    SegmentResult,
    SnapshotInputs,
    SrmResult,
)
from analysis.engine.contract.messages import Coded
from core.vocab import FINISHED_STATUSES

from .formatting import count, guardrail_loss_coded, guardrail_loss_text
from .outcomes import guardrail_losses

NO_EXPOSURE_HOURS = 24


def _check(
    check: str,
    severity: str,
    message: str,
    condition: str | None = None,
    *,
    code: str | None = None,
    **params: Any,
) -> HealthCheck:
    return HealthCheck(
        check=check,
        severity=severity,
        condition=condition or check,
        message=message,
        coded=Coded(code or check, params),
    )


def _p(p: float | None) -> str:
    return "n/a" if p is None else f"{p:.2g}"


def _srm(srm: SrmResult, segments: Sequence[SegmentResult]) -> list[HealthCheck]:
    error = srm.mismatch or srm.level == SRM_ERROR
    if not error and srm.level != SRM_WARNING:
        return []
    observed = " / ".join(f"{k} {count(n)}" for k, n in srm.observed.items())
    expected = " / ".join(f"{k} {count(round(n or 0))}" for k, n in srm.expected.items())
    what = "Sample ratio mismatch" if error else "Sample ratio warning"
    message = f"{what} (p = {_p(srm.p_value)}): observed {observed}, expected {expected}."
    worst = min(
        (s for s in segments if s.units > 0 and s.value != "other"),
        key=lambda s: s.srm.p_value if s.srm.p_value is not None else 1.0,
        default=None,
    )
    segment = None
    if worst is not None:
        segment = {
            "attribute": worst.attribute,
            "value": worst.value,
            "p": worst.srm.p_value,
            "units": worst.units,
        }
        message += (
            f" The imbalance is largest for {worst.attribute} = {worst.value} "
            f"(p = {_p(worst.srm.p_value)}, {count(worst.units)} units)."
        )
    if not error:
        message += (
            " Below p = 0.001 this becomes an error and the decision is held. Check targeting or"
            " weight changes during the run, redirects or crashes that lose one variant's"
            " exposures, and bot filtering."
        )
        return [
            _check(
                "srm",
                "warning",
                message,
                condition="srm_warning",
                code="srm_warning",
                p=srm.p_value,
                observed=dict(srm.observed),
                expected=dict(srm.expected),
                segment=segment,
            )
        ]
    message += (
        " Results are not trustworthy until this is explained: check targeting or weight changes"
        " during the run, redirects or crashes that lose one variant's exposures, and bot"
        " filtering."
    )
    return [
        _check(
            "srm",
            "error",
            message,
            code="srm_error",
            p=srm.p_value,
            observed=dict(srm.observed),
            expected=dict(srm.expected),
            segment=segment,
        )
    ]


def _no_exposures(inputs: SnapshotInputs) -> list[HealthCheck]:
    if inputs.status != "running":
        return []
    last = inputs.freshness.last_exposure_at or inputs.started_at
    if last is None:
        return []
    hours = (inputs.as_of_datetime - dt.datetime.fromisoformat(last)).total_seconds() / 3600
    if hours < NO_EXPOSURE_HOURS:
        return []
    seen = "No exposures at all" if not inputs.freshness.last_exposure_at else "No new exposures"
    return [
        _check(
            "no_exposures",
            "warning",
            f"{seen} for {hours:.0f} hours in a running experiment. Check that the app still "
            "calls the assign API for this experiment (with tracking on), that targeting still "
            "matches real users, and that coverage is above 0.",
            code="no_exposures_at_all" if not inputs.freshness.last_exposure_at else "no_exposures",
            hours=round(hours),
        )
    ]


def _guardrails(metrics: Sequence[MetricResult]) -> list[HealthCheck]:
    return [
        _check(
            "guardrail_worse",
            "error",
            f"{guardrail_loss_text(loss)} Consider stopping or pausing this variant and "
            "look at the segments to see who is affected.",
            condition=f"guardrail_worse:{loss.metric}:{loss.variant}",
            code="guardrail_loss",
            loss=guardrail_loss_coded(loss).to_dict(),
        )
        for loss in guardrail_losses(metrics)
    ]


def _underpowered(inputs: SnapshotInputs, plan: Plan, power: PowerResult) -> list[HealthCheck]:
    needed = power.required_units_per_arm
    if not needed or not plan.mde:
        return []
    arms = max(len(inputs.variants), 1)
    planned = plan.planned_sample_size
    planned_per_arm = planned / arms if planned else None
    done = power.planned_sample_reached or inputs.status in FINISHED_STATUSES
    short_plan = planned_per_arm is not None and planned_per_arm < needed
    short_now = bool(done) and power.units_per_arm < needed
    if not (short_plan or short_now):
        return []
    have = planned_per_arm if short_plan else power.units_per_arm
    what = "The planned sample" if short_plan else "The sample collected"
    current = power.current_mde
    can = f" it can only detect about {current:.1%}" if current and not short_plan else ""
    return [
        _check(
            "underpowered",
            "warning",
            f"Underpowered: {what.lower()[0] + what[1:]} of {count(have or 0)} units per variant "
            f"is below the {count(needed)} needed to detect the planned minimum effect of "
            f"{plan.mde:.1%} on {power.metric} at {power.power:.0%} power;"
            f"{can or ' a real effect of that size may be missed'}. Run longer, raise coverage, "
            "or accept a larger minimum detectable effect.",
            code="underpowered_plan" if short_plan else "underpowered_sample",
            have=int(have or 0),
            needed=needed,
            mde=plan.mde,
            metric=power.metric,
            power=power.power,
            current=current if current and not short_plan else None,
        )
    ]


def _multiple(inputs: SnapshotInputs) -> list[HealthCheck]:
    n = inputs.excluded.multiple_variants
    if n == 0:
        return []
    total = inputs.excluded.total + inputs.total_units
    return [
        _check(
            "multiple_exposures",
            "warning",
            f"{count(n)} units ({n / total:.2%} of exposed units) saw more than one variant and "
            "are left out of the analysis. Check that the unit id is stable across sessions and "
            "devices and that attributes used for targeting do not change during the experiment.",
            units=n,
            share=n / total,
        )
    ]


def _out_of_range(metrics: Sequence[MetricResult]) -> list[HealthCheck]:
    return [
        _check(
            "values_out_of_range",
            "warning",
            f"{m.name}: {count(m.out_of_range_units or 0)} units had values beyond the accepted "
            "range (±1e100); they were counted at the limit, so this metric's figures do not "
            "describe those values. Find the events with such values (stored before ingestion "
            "refused them, or written around the API) and correct or delete them.",
            condition=f"values_out_of_range:{m.metric}",
            metric=m.metric,
            name=m.name,
            units=m.out_of_range_units or 0,
        )
        for m in metrics
        if m.values_out_of_range
    ]


def health_checks(
    *,
    inputs: SnapshotInputs,
    plan: Plan,
    srm: SrmResult,
    metrics: Sequence[MetricResult],
    segments: Sequence[SegmentResult],
    power: PowerResult,
) -> tuple[HealthCheck, ...]:
    """Every check that fires for this snapshot (empty when all is well)."""
    return (
        *_srm(srm, segments),
        *_no_exposures(inputs),
        *_guardrails(metrics),
        *_underpowered(inputs, plan, power),
        *_multiple(inputs),
        *_out_of_range(metrics),
    )
