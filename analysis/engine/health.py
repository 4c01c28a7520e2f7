"""Health checks of a snapshot, each with a coded message that says what to do (pure).

Each check is a ``HealthCheck`` (``check``, ``severity``, ``condition``, ``coded``);
``condition`` is a stable key (the same problem gives the same key in every snapshot) used to
notify the owner once. The message is a code (``HealthCode``) with its raw values, never a
sentence; ``analysis.words`` puts it into the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from analysis.engine.codes import HealthCode
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

from .formatting import guardrail_loss_coded
from .outcomes import guardrail_losses
from .srm_alarms import SrmAlarm, day_srm_alarms, segment_srm_alarms

# At most this many segments (or days) are named in one message; ``count`` says how many.
NAMED_ALARMS = 5

NO_EXPOSURE_HOURS = 24


def _check(
    check: str,
    severity: str,
    code: HealthCode,
    condition: str | None = None,
    **params: Any,
) -> HealthCheck:
    return HealthCheck(
        check=check,
        severity=severity,
        condition=condition or check,
        coded=Coded(code.value, params),
    )


def _srm(srm: SrmResult, segments: Sequence[SegmentResult]) -> list[HealthCheck]:
    error = srm.mismatch or srm.level == SRM_ERROR
    if not error and srm.level != SRM_WARNING:
        return []
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
    values = {
        "p": srm.p_value,
        "observed": dict(srm.observed),
        "expected": dict(srm.expected),
        "segment": segment,
    }
    if not error:
        return [_check("srm", "warning", HealthCode.SRM_WARNING, condition="srm_warning", **values)]
    return [_check("srm", "error", HealthCode.SRM_ERROR, **values)]


def _alarm_values(alarms: list[SrmAlarm]) -> dict[str, Any]:
    return {
        "items": [a.params() for a in alarms[:NAMED_ALARMS]],
        "count": len(alarms),
        "family_size": alarms[0].family_size,
    }


def _segment_srm(srm: SrmResult, segments: Sequence[SegmentResult]) -> list[HealthCheck]:
    """Per segment dimension, its segments whose split is broken (``srm_alarms``). Left out
    when the overall split is already an error: that check names the worst segment."""
    if srm.mismatch or srm.level == SRM_ERROR:
        return []
    checks = []
    for attribute, alarms in sorted(segment_srm_alarms(segments).items()):
        values = {"attribute": attribute, **_alarm_values(alarms)}
        if any(a.extreme for a in alarms):
            checks.append(
                _check(
                    "segment_srm",
                    "error",
                    HealthCode.SEGMENT_SRM_ERROR,
                    condition=f"segment_srm:{attribute}",
                    **values,
                )
            )
        else:
            checks.append(
                _check(
                    "segment_srm",
                    "warning",
                    HealthCode.SEGMENT_SRM_WARNING,
                    condition=f"segment_srm_warning:{attribute}",
                    **values,
                )
            )
    return checks


def _day_srm(inputs: SnapshotInputs, srm: SrmResult) -> list[HealthCheck]:
    """The exposure days whose split is broken; left out when the overall split is already
    an error (that check says it)."""
    if srm.mismatch or srm.level == SRM_ERROR:
        return []
    alarms = day_srm_alarms(inputs)
    if not alarms:
        return []
    return [_check("day_srm", "warning", HealthCode.DAY_SRM_WARNING, **_alarm_values(alarms))]


def _no_exposures(inputs: SnapshotInputs) -> list[HealthCheck]:
    if inputs.status != "running":
        return []
    last = inputs.freshness.last_exposure_at or inputs.started_at
    if last is None:
        return []
    hours = (inputs.as_of_datetime - dt.datetime.fromisoformat(last)).total_seconds() / 3600
    if hours < NO_EXPOSURE_HOURS:
        return []
    at_all = not inputs.freshness.last_exposure_at
    code = HealthCode.NO_EXPOSURES_AT_ALL if at_all else HealthCode.NO_EXPOSURES
    return [_check("no_exposures", "warning", code, hours=round(hours))]


def _guardrails(metrics: Sequence[MetricResult]) -> list[HealthCheck]:
    return [
        _check(
            "guardrail_worse",
            "error",
            HealthCode.GUARDRAIL_LOSS,
            condition=f"guardrail_worse:{loss.metric}:{loss.variant}",
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
    current = power.current_mde
    return [
        _check(
            "underpowered",
            "warning",
            HealthCode.UNDERPOWERED_PLAN if short_plan else HealthCode.UNDERPOWERED_SAMPLE,
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
            HealthCode.MULTIPLE_EXPOSURES,
            units=n,
            share=n / total,
        )
    ]


def _out_of_range(metrics: Sequence[MetricResult]) -> list[HealthCheck]:
    return [
        _check(
            "values_out_of_range",
            "warning",
            HealthCode.VALUES_OUT_OF_RANGE,
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
        *_segment_srm(srm, segments),
        *_day_srm(inputs, srm),
        *_no_exposures(inputs),
        *_guardrails(metrics),
        *_underpowered(inputs, plan, power),
        *_multiple(inputs),
        *_out_of_range(metrics),
    )
