"""The guardrail circuit breaker's rule: which guardrails are harmed beyond their threshold.

Pure (no Django, no database), so the calibration study in ``bench/breaker.py`` calls the
very function a refresh uses. For each guardrail and non-control variant it reads the
always-valid confidence sequence of ``analysis.engine.stats.sequential`` at the plan's alpha,
whatever the plan's own method, so reading it at every refresh keeps its error rate:

* relative effect (Fieller's interval): harmful when the whole interval lies beyond the
  threshold in the harmful direction, i.e. its upper bound is below −threshold for a
  higher-is-better metric, or its lower bound above +threshold for a lower-is-better one;
* when the relative effect cannot be computed (a control mean of 0, or one not
  distinguishable from 0), the absolute interval is compared with threshold × |control mean|.

A guardrail whose data supports neither is never harmful. The threshold is relative
(0.05 = 5% worse) and defaults to 0 (any harm).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.engine.codes import BreakerCode
from analysis.engine.contract import Coded, Plan, SnapshotInputs
from analysis.engine.contract.breaker import (
    BREAKER_ABSOLUTE,
    BREAKER_RELATIVE,
    BreakerResult,
    BreakerRow,
)
from analysis.engine.contract.convert import num, pair
from analysis.engine.stats import ArmStats, compare

GUARDRAIL = "guardrail"


@dataclass(frozen=True)
class HarmEvidence:
    """The always-valid comparison the breaker read for one guardrail and variant."""

    basis: str | None
    effect: float | None
    ci: tuple[float, float] | None
    status: str
    harmful: bool


def _beyond(ci: tuple[float, float], bound: float, higher_is_better: bool) -> bool:
    low, high = ci
    return high < -bound if higher_is_better else low > bound


def guardrail_harm(
    control: ArmStats,
    treatment: ArmStats,
    *,
    higher_is_better: bool,
    alpha: float,
    threshold: float = 0.0,
) -> HarmEvidence:
    """Whether ``treatment`` is worse than ``control`` by more than ``threshold`` (relative),
    with always-valid evidence at level ``alpha``."""
    kw = {"method": "sequential", "alpha": alpha, "higher_is_better": higher_is_better}
    rel = compare(control, treatment, relative=True, **kw)
    if rel.status == "ok" and rel.ci is not None:
        ci = (float(rel.ci[0]), float(rel.ci[1]))
        return HarmEvidence(
            basis=BREAKER_RELATIVE,
            effect=num(rel.effect),
            ci=pair(ci),
            status=rel.status,
            harmful=_beyond(ci, threshold, higher_is_better),
        )
    absolute = compare(control, treatment, relative=False, **kw)
    if absolute.status == "ok" and absolute.ci is not None:
        ci = (float(absolute.ci[0]), float(absolute.ci[1]))
        bound = threshold * abs(absolute.control_mean or 0.0)
        return HarmEvidence(
            basis=BREAKER_ABSOLUTE,
            effect=num(absolute.effect),
            ci=pair(ci),
            status=rel.status,
            harmful=_beyond(ci, bound, higher_is_better),
        )
    return HarmEvidence(basis=None, effect=None, ci=None, status=rel.status, harmful=False)


def guardrail_breaker(*, inputs: SnapshotInputs, plan: Plan) -> BreakerResult | None:
    """The breaker's reading of every guardrail, or None when the plan has it off."""
    if not plan.guardrail_auto_pause:
        return None
    control = inputs.control.key
    rows = []
    for m in inputs.metrics:
        if m.role != GUARDRAIL or control not in m.stats:
            continue
        threshold = float(plan.harm_thresholds.get(m.metric, 0.0))
        for v in inputs.variants:
            if v.is_control or v.key not in m.stats:
                continue
            e = guardrail_harm(
                m.stats[control],
                m.stats[v.key],
                higher_is_better=m.higher_is_better,
                alpha=plan.alpha,
                threshold=threshold,
            )
            rows.append(
                BreakerRow(
                    metric=m.metric,
                    name=m.name,
                    variant=v.key,
                    higher_is_better=m.higher_is_better,
                    threshold=threshold,
                    basis=e.basis,
                    effect=e.effect,
                    ci=e.ci,
                    status=e.status,
                    harmful=e.harmful,
                )
            )
    return BreakerResult(alpha=plan.alpha, guardrails=tuple(rows))


def breaker_row_params(row: BreakerRow, *, alpha: float) -> dict[str, Any]:
    """A harmful row's values for the breaker's messages: metric, name, variant, direction,
    threshold, basis, effect and interval, and the ``alpha`` of its always-valid level."""
    return {
        "metric": row.metric,
        "name": row.name,
        "variant": row.variant,
        "higher_is_better": row.higher_is_better,
        "threshold": row.threshold,
        "basis": row.basis,
        "effect": row.effect,
        "ci": None if row.ci is None else list(row.ci),
        "alpha": alpha,
    }


def breaker_pause_coded(
    rows: list[BreakerRow], *, alpha: float, snapshot_id: int, as_of: str
) -> Coded:
    """The pause's reason: the first harmful row, how many more, and the snapshot."""
    return Coded(
        BreakerCode.PAUSED.value,
        {
            "row": breaker_row_params(rows[0], alpha=alpha),
            "more": len(rows) - 1,
            "snapshot": snapshot_id,
            "as_of": as_of,
        },
    )


def breaker_notice_coded(row: BreakerRow, *, alpha: float) -> Coded:
    """The owner's notice of one harmful row: what is harmed, and that the experiment paused."""
    return Coded(BreakerCode.NOTICE.value, {"row": breaker_row_params(row, alpha=alpha)})
