"""The rules that turn a comparison into a verdict, each in one place (pure).

``variant_outcome`` decides a variant's outcome once, after the multiple-testing correction,
from the comparison named by the row's ``significance_basis`` (the relative one, or the
absolute one when the relative effect cannot be computed); ``guardrail_losses`` lists the
guardrails worse for a variant: significantly worse, or whose absolute interval excludes zero
in the harmful direction. The health checks and the decision both read these, so changing a
rule here changes both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.engine.contract import (
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


def harmful_interval(row: VariantResult, *, higher_is_better: bool) -> bool:
    """True when the row's absolute interval lies wholly on the harmful side of zero."""
    if row.absolute_ci is None:
        return False
    low, high = row.absolute_ci
    return high < 0 if higher_is_better else low > 0


@dataclass(frozen=True)
class GuardrailLoss:
    """A guardrail metric worse for a (non-control) variant: its outcome is ``worse``, or
    (``by_interval``) its absolute interval excludes zero in the harmful direction although
    the test that decides the outcome did not call it."""

    metric: str
    row: VariantResult
    by_interval: bool = False

    @property
    def variant(self) -> str:
        return self.row.variant


def guardrail_losses(metrics: Sequence[MetricResult]) -> list[GuardrailLoss]:
    """Every guardrail x variant whose outcome is ``worse`` or whose absolute interval
    excludes zero in the harmful direction, in report order."""
    return [
        GuardrailLoss(metric=m.metric, row=row, by_interval=not row.is_worse)
        for m in metrics
        if m.role == "guardrail"
        for row in m.treatments
        if row.is_worse or harmful_interval(row, higher_is_better=m.higher_is_better)
    ]
