"""The report's Economics section (``analysis/_economics.html``): the context for
pricing and promotion experiments, from ``analysis.engine.economics``.

No query of its own when the experiment comes with its metric links and variants prefetched
(``experiment_or_404``), whatever the number of metrics. The break-even chart is drawn with
``analysis.engine.charts`` geometry: the observed relative change of conversion as an
interval bar and the break-even as a line. A badge claims "earns more" or "loses revenue"
only when the revenue difference's interval agrees (``break_even_claim``).
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
from analysis.words.formats import NumberFormat, currency_symbol
from core.vocab import DisplayFormat
from experiments.models import Experiment

from .curve_chart import value_curve_sentences
from .rows import BAR_PAD, BAR_WIDTH, axis_ticks


@dataclass(frozen=True)
class BreakEvenChart:
    """The observed interval (``bar``) and the break-even's pixel (``x_break_even``)."""

    bar: IntervalBar
    x_break_even: float
    ticks: list[Tick]


# ``BreakEvenRow.claim`` beyond the break-even's verdicts: past the break-even on conversion,
# but the revenue difference's interval does not support "earns more" ("loses revenue").
REVENUE_UNCLEAR = "revenue_unclear"
SUPPORTING_TONE = {"above": "better", "below": "worse"}


@dataclass(frozen=True)
class BreakEvenRow:
    item: BreakEven
    chart: BreakEvenChart | None
    # What the section may claim: ``above`` / ``below`` only when the variant's revenue
    # difference (if measured) lies on the same side of zero; else ``revenue_unclear``, or
    # ``unclear`` while the conversion interval still contains the break-even.
    claim: str = "unclear"

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


def break_even_claim(item: BreakEven, revenue_diff: Any) -> str:
    """The break-even's verdict, held back to ``revenue_unclear`` when the variant's revenue
    difference is measured and its interval does not lie on the verdict's side of zero."""
    needed = SUPPORTING_TONE.get(item.verdict)
    if needed is None:
        return "unclear"
    if revenue_diff is not None and revenue_diff.tone != needed:
        return REVENUE_UNCLEAR
    return item.verdict


def _chart(item: BreakEven, claim: str) -> BreakEvenChart | None:
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
    tone = SUPPORTING_TONE.get(claim, "inconclusive")
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
    # The experiment's metric links are prefetched with their metrics (experiment_or_404).
    links = sorted(experiment.metric_links.all(), key=lambda link: (link.position, link.pk))
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


def _break_even_rows(economics: Economics) -> list[BreakEvenRow]:
    revenue = {i.variant: i.revenue_diff for i in economics.impacts}
    rows = []
    for b in economics.break_even:
        claim = break_even_claim(b, revenue.get(b.variant))
        rows.append(BreakEvenRow(item=b, chart=_chart(b, claim), claim=claim))
    return rows


@dataclass(frozen=True)
class ConversionRate:
    """A variant's conversion as a share of its exposed users ('7.10%') and the difference
    with the control in percentage points, each with its interval: the per-1,000 figures
    said as people read a conversion rate."""

    value: str
    interval: str
    diff: str
    diff_interval: str
    tone: str


def _interval(fmt: Any, e: Any, *, signed: bool) -> str:
    if e is None or e.low is None or e.high is None:
        return ""
    write = fmt.difference if signed else fmt.value
    return f"[{write(e.low)}, {write(e.high)}]"


@dataclass(frozen=True)
class ImpactRow:
    impact: Any
    rate: ConversionRate | None


def impact_rows(economics: Economics) -> list[ImpactRow]:
    """Each variant's impact with its ``ConversionRate`` (from the per-1,000 conversions)."""
    fmt = NumberFormat(DisplayFormat.RATE)
    rows = []
    for i in economics.impacts:
        if i.conversions is None:
            rows.append(ImpactRow(impact=i, rate=None))
            continue
        share = i.conversions.scaled(1 / 1000)
        diff = i.conversions_diff.scaled(1 / 1000) if i.conversions_diff else None
        rate = ConversionRate(
            value=fmt.value(share.value),
            interval=_interval(fmt, share, signed=False),
            diff=fmt.difference(diff.value) if diff else "",
            diff_interval=_interval(fmt, diff, signed=True),
            tone=diff.tone if diff else "",
        )
        rows.append(ImpactRow(impact=i, rate=rate))
    return rows


def _names(results: Results, economics: Economics) -> dict[str, str]:
    """The names of the section's revenue, net revenue and cost metrics (keys as a fallback)."""
    names = {m.metric: m.name for m in results.metrics}
    keys = {
        "revenue": economics.revenue_metric,
        "net": economics.net_metric,
        "cost": economics.cost_metric,
    }
    return {role: names.get(key, key) for role, key in keys.items() if key}


def money_symbol(experiment: Experiment, economics: Economics) -> str:
    """The currency symbol of the revenue (or net revenue) metric when its display format is
    currency, for the section's money columns; '' otherwise."""
    keys = {economics.revenue_metric, economics.net_metric} - {None}
    for link in experiment.metric_links.all():
        m = link.metric
        if m.key in keys and m.effective_display_format == DisplayFormat.CURRENCY:
            return currency_symbol(m.currency).strip()
    return ""


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
        "break_even_rows": _break_even_rows(economics),
        "impact_rows": impact_rows(economics),
        "money": money_symbol(experiment, economics),
        "economic_names": _names(results, economics),
        "bar_width": BAR_WIDTH,
        # The value to date curves' reading: pulled forward or added (``curve_chart``).
        "value_curves": value_curve_sentences(list(results.metrics)),
    }
