"""The rules that turn a comparison into a verdict, each in one place (pure).

``variant_outcome`` decides a variant's outcome once, after the multiple-testing correction;
``guardrail_losses`` lists the guardrails significantly worse for a variant. The health
checks and the decision both read these, so changing a rule here changes both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.contract import (
    BETTER,
    NOT_ENOUGH_DATA,
    NOT_SIGNIFICANT,
    WORSE,
    MetricResult,
    VariantResult,
)


def variant_outcome(
    *, ok: bool, effect: float | None, higher_is_better: bool, significant: bool
) -> str:
    """``better`` / ``worse`` (significant, in the metric's good or bad direction),
    ``not_significant``, or ``not_enough_data`` when the data could not support a test."""
    if not ok:
        return NOT_ENOUGH_DATA
    if not significant:
        return NOT_SIGNIFICANT
    positive = effect is not None and effect > 0
    return BETTER if positive == higher_is_better else WORSE


@dataclass(frozen=True)
class GuardrailLoss:
    """A guardrail metric significantly worse for a (non-control) variant."""

    metric: str
    row: VariantResult

    @property
    def variant(self) -> str:
        return self.row.variant


def guardrail_losses(metrics: Sequence[MetricResult]) -> list[GuardrailLoss]:
    """Every guardrail x variant whose outcome is ``worse``, in report order."""
    return [
        GuardrailLoss(metric=m.metric, row=row)
        for m in metrics
        if m.role == "guardrail"
        for row in m.treatments
        if row.is_worse
    ]
