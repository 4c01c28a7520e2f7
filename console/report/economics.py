"""The report's Economics section (``analysis/_economics.html``): the context for
pricing and promotion experiments, from ``analysis.engine.economics``.

Two queries (the experiment's metric definitions and its variants' payloads), whatever the
number of metrics. The break-even chart is drawn with ``analysis.engine.charts`` geometry: the
observed relative change of conversion as an interval bar and the break-even as a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.engine.charts import IntervalBar, LinearScale, Tick, interval_bar
from analysis.engine.contract import Results, SnapshotInputs
from analysis.engine.economics import (
    KINDS,
    BreakEven,
    Economics,
    MetricDefinition,
    experiment_economics,
)
from analysis.models import ResultSnapshot
from experiments.models import Experiment

from .rows import BAR_PAD, BAR_WIDTH, axis_ticks


@dataclass(frozen=True)
class BreakEvenChart:
    """The observed interval (``bar``) and the break-even's pixel (``x_break_even``)."""

    bar: IntervalBar
    x_break_even: float
    ticks: list[Tick]


@dataclass(frozen=True)
class BreakEvenRow:
    item: BreakEven
    chart: BreakEvenChart | None

    @property
    def allowed_percent(self) -> float:
        """How far conversion may fall (higher price) or must rise (lower price), in %."""
        return abs(self.item.break_even) * 100

    @property
    def observed_percent(self) -> tuple[float, float | None, float | None] | None:
        o = self.item.observed
        if o is None:
            return None
        return (
            o.value * 100,
            None if o.low is None else o.low * 100,
            None if o.high is None else o.high * 100,
        )


def _chart(item: BreakEven) -> BreakEvenChart | None:
    o = item.observed
    if o is None or o.low is None or o.high is None:
        return None
    reach = max(abs(o.low), abs(o.high), abs(item.break_even), 0.01) * 1.1
    scale = LinearScale(-reach, reach, BAR_PAD, BAR_WIDTH - BAR_PAD)
    bar = interval_bar(
        scale,
        lo=o.low,
        hi=o.high,
        estimate=o.value,
        significant=item.verdict != "unclear",
        higher_is_better=item.verdict == "above",
    )
    # Tone by the verdict: the bar is green above the break-even, red below, grey between.
    tone = {"above": "better", "below": "worse"}.get(item.verdict, "inconclusive")
    bar = IntervalBar(
        x_lo=bar.x_lo,
        x_hi=bar.x_hi,
        x_mid=bar.x_mid,
        x_zero=bar.x_zero,
        tone=tone,
        clipped_lo=bar.clipped_lo,
        clipped_hi=bar.clipped_hi,
    )
    return BreakEvenChart(bar=bar, x_break_even=scale(item.break_even), ticks=axis_ticks(scale))


def _definitions(experiment: Experiment) -> list[MetricDefinition]:
    links = experiment.metric_links.select_related("metric").order_by("position", "pk")
    return [
        MetricDefinition(
            key=link.metric.key,
            name=link.metric.name,
            type=link.metric.type,
            event=link.metric.event or "",
            value_field=link.metric.value_field or "",
            higher_is_better=link.metric.higher_is_better,
        )
        for link in links
    ]


def economics_context(
    *, experiment: Experiment, snapshot: ResultSnapshot, results: Results
) -> dict[str, Any]:
    """``economics`` (the section's numbers) and ``break_even_rows`` (with their charts) for a
    pricing or promotion experiment; nothing for other kinds or without the needed metrics."""
    if experiment.kind not in KINDS:
        return {}
    try:
        inputs: SnapshotInputs | None = SnapshotInputs.from_dict(snapshot.inputs)
    except (KeyError, TypeError, ValueError):
        inputs = None  # per-arm values are then shown without their interval
    economics: Economics | None = experiment_economics(
        kind=experiment.kind,
        results=results,
        inputs=inputs,
        metrics=_definitions(experiment),
        payloads={v.key: v.payload for v in experiment.variants.all()},
    )
    if economics is None:
        return {}
    return {
        "economics": economics,
        "economics_confidence": (1 - economics.alpha) * 100,
        "break_even_rows": [BreakEvenRow(item=b, chart=_chart(b)) for b in economics.break_even],
        "bar_width": BAR_WIDTH,
    }
