"""Pulled forward or added? The reading of a value to date (LTV) curve (pure).

A promotion (a first-order coupon) often raises early value: orders come sooner. Whether it
also raises value for good shows later on the curve. For each treatment of a ``value_curve``
metric, the headline point (D7) is set against the latest point whose comparison could be
made (the most mature one with an absolute interval):

- ``added``: at the late point the treatment is still significantly ahead, in the metric's
  good direction (the absolute interval excludes 0): the promotion added value;
- ``faded``: ahead at the early point, but at the late point the interval covers 0 and the
  difference is smaller than at the early point: the promotion may have pulled value forward
  rather than added to it (not proof of no difference: the interval says how much is left);
- ``unclear``: anything else (no later point yet, or no early lead either).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.engine.contract import MetricResult, PointResult, VariantResult

ADDED, FADED, UNCLEAR = "added", "faded", "unclear"
VERDICTS = (ADDED, FADED, UNCLEAR)


@dataclass(frozen=True)
class ValueCurveReading:
    """One treatment of one value curve: its early and late points' absolute differences."""

    metric: str
    variant: str
    early: str
    early_effect: float | None
    early_ci: tuple[float | None, float | None] | None
    late: str | None
    late_effect: float | None
    late_ci: tuple[float | None, float | None] | None
    verdict: str


def _row(point: PointResult, variant: str) -> VariantResult | None:
    return next((v for v in point.variants if v.variant == variant), None)


def _ahead(v: VariantResult | None, higher_is_better: bool) -> bool:
    """The treatment's absolute interval lies wholly on the good side of 0."""
    if v is None or v.absolute_ci is None:
        return False
    lo, hi = v.absolute_ci
    if lo is None or hi is None:
        return False
    return lo > 0 if higher_is_better else hi < 0


def _readings(m: MetricResult) -> list[ValueCurveReading]:
    early = next((p for p in m.points if p.point == m.headline), None)
    if early is None:
        return []
    later = sorted((p for p in m.points if p.day_to > early.day_to), key=lambda p: -p.day_to)
    out = []
    for treatment in m.treatments:
        first = _row(early, treatment.variant)
        late_point = next(
            (p for p in later if (r := _row(p, treatment.variant)) and r.absolute_ci is not None),
            None,
        )
        last = _row(late_point, treatment.variant) if late_point else None
        verdict = UNCLEAR
        if last is not None and _ahead(last, m.higher_is_better):
            verdict = ADDED
        elif (
            last is not None
            and first is not None
            and _ahead(first, m.higher_is_better)
            and last.absolute_effect is not None
            and first.absolute_effect is not None
            and abs(last.absolute_effect) < abs(first.absolute_effect)
        ):
            verdict = FADED
        out.append(
            ValueCurveReading(
                metric=m.metric,
                variant=treatment.variant,
                early=early.point,
                early_effect=first.absolute_effect if first else None,
                early_ci=first.absolute_ci if first else None,
                late=late_point.point if late_point else None,
                late_effect=last.absolute_effect if last else None,
                late_ci=last.absolute_ci if last else None,
                verdict=verdict,
            )
        )
    return out


def value_curve_readings(metrics: Sequence[MetricResult]) -> tuple[ValueCurveReading, ...]:
    """Every value curve's reading (``Results.metrics``), per treatment, in their order."""
    return tuple(r for m in metrics if m.type == "value_curve" and m.points for r in _readings(m))
