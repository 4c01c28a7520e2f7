"""What the report draws, computed from the typed results (pure functions).

Every figure comes from ``analysis.engine.contract`` types; bars use ``analysis.engine.charts``
geometry with one shared scale per table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from analysis.engine.charts import LinearScale, Tick, interval_bar, nice_ticks, shared_domain
from analysis.engine.contract import MetricResult, Results, VariantResult
from analysis.engine.stats.exact import TEST_FISHER_EXACT
from analysis.words.numbers import count, localize, status_label

BAR_WIDTH = 240.0
BAR_PAD = 8.0
CORRECTION_NAMES = {"holm": "Holm", "bh": "BH", "bonferroni": "Bonferroni"}


HUGE = 1e9


def figure(value: float | None) -> str:
    """A table figure in the active locale: four decimals ('0.1895'), or four significant
    digits with an exponent for huge values ('6.803e+97', e.g. values counted at the range
    limit) so a cell never spells out a hundred digits; '—' for none."""
    if value is None:
        return "—"
    if abs(value) >= HUGE:
        return localize(f"{value:.4g}")
    return number_format(value, 4)


@dataclass(frozen=True)
class Row:
    metric: MetricResult
    control: VariantResult | None
    variant: VariantResult
    bar: Any
    p_label: str
    title: str
    markers: list[str]

    @property
    def control_text(self) -> str:
        return figure(self.control.mean if self.control else None)

    @property
    def value_text(self) -> str:
        return figure(self.variant.mean)

    @property
    def absolute_text(self) -> str:
        return figure(self.variant.absolute_effect)

    @property
    def effect_text(self) -> str:
        """The relative effect as a signed percentage: '+4.20%' ('—' when undefined)."""
        x = self.effect_percent
        if x is None:
            return "—"
        sign = "+" if x > 0 else ""
        if abs(x) >= HUGE:
            return f"{sign}{localize(f'{x:.4g}')}%"
        return f"{sign}{number_format(x, 2)}%"

    @property
    def effect_percent(self) -> float | None:
        return None if self.variant.effect is None else self.variant.effect * 100

    @property
    def chance_percent(self) -> float | None:
        chance = self.variant.chance_to_win
        return None if chance is None else chance * 100


@dataclass(frozen=True)
class Table:
    role: str
    label: str
    rows: list[Row]
    ticks: list[Any]
    scale: LinearScale
    guardrail_worse: bool


def _role_labels() -> dict[str, str]:
    return {"primary": _("Primary"), "secondary": _("Secondary"), "guardrail": _("Guardrails")}


def p_value_label(results: Results, metric: MetricResult) -> str:
    """What the p-value column says: adjusted (Holm/BH), plain, or the chance to win."""
    if results.plan.method == "bayesian":
        return _("Chance to win")
    correction = results.plan.correction
    if metric.corrected and correction:
        name = CORRECTION_NAMES.get(correction, correction)
        return _("p-value, adjusted (%(name)s)") % {"name": name}
    return _("p-value")


def _tick_label(tick: Tick) -> str:
    percent = tick.value * 100
    if abs(percent) >= HUGE:  # an axis for effects of values counted at the range limit
        return localize(f"{percent:+.2g}%")
    return localize(tick.label)


def axis_ticks(scale: LinearScale, n: int = 4) -> list[Tick]:
    """Round ticks of ``scale`` (relative effects) with labels in the active locale's number
    format, short even for huge effects."""
    return [replace(t, label=_tick_label(t)) for t in nice_ticks(scale, count=n)]


def metric_markers(metric: MetricResult) -> list[str]:
    """Value-range, CUPED, winsorization, exact test and not-enough-data notes for one metric."""
    marks: list[str] = []
    if metric.values_out_of_range:
        marks.append(
            _("%(n)s units had values beyond the accepted range; counted at the limit")
            % {"n": count(metric.out_of_range_units or 0)}
        )
    if metric.cuped:
        reductions = [v.variance_reduction for v in metric.treatments if v.variance_reduction]
        if reductions:
            marks.append(
                _("CUPED applied (variance reduced by %(share)s%%)")
                % {"share": localize(f"{max(reductions) * 100:.0f}")}
            )
        else:
            marks.append(_("CUPED applied"))
    if metric.winsorized_at is not None:
        marks.append(
            _("Winsorized at the %(p)sth percentile")
            % {"p": localize(f"{metric.winsorized_at * 100:g}")}
        )
    if any(v.test == TEST_FISHER_EXACT for v in metric.treatments):
        marks.append(_("Exact test used (Fisher), as the counts are small"))
    for v in metric.treatments:
        if v.outcome == "not_enough_data":
            marks.append(
                _("Not enough data for %(variant)s: %(reason)s")
                % {
                    "variant": v.name,
                    "reason": status_label(v.status) if v.status else _("too few units or events"),
                }
            )
        if v.immature_units:
            marks.append(
                _("%(n)s units of %(variant)s are too recent to count")
                % {"n": count(v.immature_units), "variant": v.name}
            )
    return marks


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        x = value * 100
        return localize(f"{x:+.4g}%" if abs(x) >= HUGE else f"{x:+.2f}%")
    return localize(f"{value:.4g}")


def row_title(metric: MetricResult, control: VariantResult | None, v: VariantResult) -> str:
    low, high = v.ci or (None, None)
    return _(
        "%(metric)s, %(variant)s vs control: %(control_value)s → %(value)s; relative effect "
        "%(effect)s, interval %(low)s to %(high)s; p-value %(p)s"
    ) % {
        "metric": metric.name,
        "variant": v.name,
        "control_value": _fmt(control.mean if control else None),
        "value": _fmt(v.mean),
        "effect": _fmt(v.effect, True),
        "low": _fmt(low, True),
        "high": _fmt(high, True),
        "p": _fmt(v.p_value),
    }


def metric_tables(results: Results) -> list[Table]:
    """One table per role present, each with one shared scale for its bars."""
    labels = _role_labels()
    tables = []
    for role in ("primary", "secondary", "guardrail"):
        metrics = [m for m in results.metrics if m.role == role]
        if not metrics:
            continue
        low, high = shared_domain(v.ci or (None, None) for m in metrics for v in m.treatments)
        scale = LinearScale(low, high, BAR_PAD, BAR_WIDTH - BAR_PAD)
        rows = []
        for m in metrics:
            control = next((v for v in m.variants if v.is_control), None)
            for i, v in enumerate(m.treatments):
                bar = None
                if v.ci is not None and v.effect is not None:
                    bar = interval_bar(
                        scale,
                        lo=v.ci[0],
                        hi=v.ci[1],
                        estimate=v.effect,
                        significant=v.significant,
                        higher_is_better=m.higher_is_better,
                    )
                rows.append(
                    Row(
                        metric=m,
                        control=control,
                        variant=v,
                        bar=bar,
                        p_label=p_value_label(results, m),
                        title=row_title(m, control, v),
                        markers=metric_markers(m) if i == 0 else [],
                    )
                )
        tables.append(
            Table(
                role=role,
                label=labels[role],
                rows=rows,
                ticks=axis_ticks(scale),
                scale=scale,
                guardrail_worse=role == "guardrail"
                and any(r.variant.outcome == "worse" for r in rows),
            )
        )
    return tables


def notable_changes(results: Results, tables: list[Table] | None = None) -> list[Row]:
    """Every significant comparison across all metrics, primary first (from ``tables`` when
    the caller has built them already)."""
    return [
        row
        for table in (metric_tables(results) if tables is None else tables)
        for row in table.rows
        if row.variant.outcome in ("better", "worse")
    ]


def units_split(results: Results) -> list[dict[str, Any]]:
    """Units per variant with their observed and planned shares."""
    total = results.units.total or 0
    expected = results.srm.expected
    expected_total = sum(x for x in expected.values() if x) or 0
    rows = []
    for key, units in results.units.by_variant.items():
        planned = expected.get(key)
        rows.append(
            {
                "variant": key,
                "units": units,
                "share": units / total * 100 if total else 0.0,
                "planned_share": planned / expected_total * 100
                if planned and expected_total
                else None,
            }
        )
    return rows


@dataclass(frozen=True)
class SegmentTable:
    value: str
    units: int
    srm: Any
    rows: list[Row]


def segment_attributes(results: Results) -> list[str]:
    """The segment attributes the snapshot carries, in first-seen order."""
    return list(dict.fromkeys(s.attribute for s in results.segments))


def segment_tables(results: Results, attribute: str) -> tuple[list[SegmentTable], list[Any]]:
    """One table per value of ``attribute`` (all on one scale) and that scale's ticks."""
    segments = [s for s in results.segments if s.attribute == attribute]
    metrics = {m.metric: m for m in results.metrics}
    low, high = shared_domain(
        v.ci or (None, None) for s in segments for v in s.variants if not v.is_control
    )
    scale = LinearScale(low, high, BAR_PAD, BAR_WIDTH - BAR_PAD)
    by_value: dict[str, SegmentTable] = {}
    for s in segments:
        metric = metrics.get(s.metric)
        if metric is None:
            continue
        table = by_value.setdefault(
            s.value, SegmentTable(value=s.value, units=s.units, srm=s.srm, rows=[])
        )
        control = next((v for v in s.variants if v.is_control), None)
        for v in s.variants:
            if v.is_control:
                continue
            bar = None
            if v.ci is not None and v.effect is not None:
                bar = interval_bar(
                    scale,
                    lo=v.ci[0],
                    hi=v.ci[1],
                    estimate=v.effect,
                    significant=v.significant,
                    higher_is_better=metric.higher_is_better,
                )
            table.rows.append(
                Row(
                    metric=metric,
                    control=control,
                    variant=v,
                    bar=bar,
                    p_label=_("p-value, not corrected"),
                    title=row_title(metric, control, v),
                    markers=[],
                )
            )
    return list(by_value.values()), axis_ticks(scale)
