"""What the report draws, computed from the typed results (pure functions).

Every figure comes from ``analysis.engine.contract`` types; bars use ``analysis.engine.charts``
geometry with one shared scale per table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext as _

from analysis.engine.charts import LinearScale, Tick, interval_bar, nice_ticks, shared_domain
from analysis.engine.contract import MetricResult, Results, VariantResult
from analysis.engine.outcomes import guardrail_losses
from analysis.engine.stats.exact import TEST_FISHER_EXACT
from analysis.simulation.planted import planted_effects_of
from analysis.words.formats import NumberFormat, metric_format, p_value, relative
from analysis.words.numbers import count, localize, status_label
from analysis.words.segments import segment_value_label, segment_value_order

BAR_WIDTH = 240.0
BAR_PAD = 8.0
CORRECTION_NAMES = {"holm": "Holm", "bh": "BH", "bonferroni": "Bonferroni"}
WORSE, BETTER = "worse", "better"

HUGE = 1e9

Formats = Mapping[str, NumberFormat]


def figure(value: float | None) -> str:
    """A plain table figure in the active locale (a metric without a display format)."""
    return NumberFormat().value(value)


def format_of(metric: MetricResult, formats: Formats | None) -> NumberFormat:
    """The metric's number format: the one the experiment's metric sets, else its type's."""
    found = (formats or {}).get(metric.metric)
    return found if found is not None else metric_format(metric.type)


@dataclass(frozen=True)
class Row:
    """One comparison as every section of the report reads it: ``outcome`` is the one verdict
    on it (the engine's outcome, or ``worse`` for a guardrail whose interval lies wholly on
    the harmful side, as the decision and the health checks treat it)."""

    metric: MetricResult
    control: VariantResult | None
    variant: VariantResult
    bar: Any
    p_label: str
    title: str
    markers: list[str]
    fmt: NumberFormat = field(default_factory=NumberFormat)
    guardrail_loss: bool = False
    planted: float | None = None  # demo data: the relative effect the simulator planted

    @property
    def planted_text(self) -> str:
        """The planted relative effect as a signed percentage ('' for real experiments)."""
        return "" if self.planted is None else relative(self.planted)

    @property
    def outcome(self) -> str:
        if self.guardrail_loss:
            return WORSE
        return self.variant.outcome or "not_enough_data"

    @property
    def tone(self) -> str:
        """``better``, ``worse`` or ``inconclusive`` (shown with the interval)."""
        return self.outcome if self.outcome in (BETTER, WORSE) else "inconclusive"

    @property
    def has_relative(self) -> bool:
        return self.variant.effect is not None and self.variant.ci is not None

    @property
    def absolute_only(self) -> bool:
        """The relative effect does not exist (e.g. a control mean of 0) but the absolute
        difference and its interval do: the row shows those, with its outcome."""
        return not self.has_relative and self.variant.absolute_ci is not None

    @property
    def enough_data(self) -> bool:
        return self.has_relative or self.absolute_only

    @property
    def no_relative_reason(self) -> str:
        """Why the relative figure is missing ('zero control mean')."""
        if self.has_relative:
            return ""
        status = self.variant.status
        if status and status != "ok":
            return status_label(status)
        return _("too few units or events")

    @property
    def control_text(self) -> str:
        return self.fmt.value(self.control.mean if self.control else None)

    @property
    def value_text(self) -> str:
        return self.fmt.value(self.variant.mean)

    @property
    def absolute_text(self) -> str:
        return self.fmt.difference(self.variant.absolute_effect)

    @property
    def absolute_low_text(self) -> str:
        ci = self.variant.absolute_ci
        return self.fmt.difference(ci[0] if ci else None)

    @property
    def absolute_high_text(self) -> str:
        ci = self.variant.absolute_ci
        return self.fmt.difference(ci[1] if ci else None)

    @property
    def low_text(self) -> str:
        ci = self.variant.ci
        return relative(ci[0] if ci else None)

    @property
    def high_text(self) -> str:
        ci = self.variant.ci
        return relative(ci[1] if ci else None)

    @property
    def effect_text(self) -> str:
        """The relative effect as a signed percentage: '+4.20%' ('—' when undefined)."""
        return relative(self.variant.effect)

    @property
    def change_text(self) -> str:
        """The change in one phrase: the relative effect, else the absolute one."""
        if self.variant.effect is not None:
            return self.effect_text
        return self.absolute_text

    @property
    def p_text(self) -> str:
        """'< 0.001' or three significant figures; '—' when the row has no test."""
        if not self.enough_data:
            return "—"
        return p_value(self.variant.p_value)

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
        # Only when it changed something: a reduction that rounds to 0% is not said.
        reductions = [
            v.variance_reduction
            for v in metric.treatments
            if v.variance_reduction and v.variance_reduction >= 0.005
        ]
        if reductions:
            marks.append(
                _("CUPED applied (variance reduced by %(share)s%%)")
                % {"share": localize(f"{max(reductions) * 100:.0f}")}
            )
    if metric.winsorized_at is not None:
        marks.append(
            _("Winsorized at the %(p)sth percentile")
            % {"p": localize(f"{metric.winsorized_at * 100:g}")}
        )
    if metric.headline:
        marks.append(
            _("A curve: %(point)s is shown and decides; every point is on the metric's page")
            % {"point": metric.headline}
        )
    if any(v.test == TEST_FISHER_EXACT for v in metric.treatments):
        marks.append(_("Exact test used (Fisher), as the counts are small"))
    for v in metric.treatments:
        if v.outcome == "not_enough_data" and v.absolute_ci is None:
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


def row_title(
    metric: MetricResult,
    control: VariantResult | None,
    v: VariantResult,
    fmt: NumberFormat | None = None,
) -> str:
    fmt = fmt or NumberFormat()
    if v.effect is None and v.absolute_ci is not None:
        low, high = v.absolute_ci
        return _(
            "%(metric)s, %(variant)s vs control: %(control_value)s → %(value)s; absolute "
            "effect %(effect)s, interval %(low)s to %(high)s; p-value %(p)s"
        ) % {
            "metric": metric.name,
            "variant": v.name,
            "control_value": fmt.value(control.mean if control else None),
            "value": fmt.value(v.mean),
            "effect": fmt.difference(v.absolute_effect),
            "low": fmt.difference(low),
            "high": fmt.difference(high),
            "p": p_value(v.p_value),
        }
    low, high = v.ci or (None, None)
    return _(
        "%(metric)s, %(variant)s vs control: %(control_value)s → %(value)s; relative effect "
        "%(effect)s, interval %(low)s to %(high)s; p-value %(p)s"
    ) % {
        "metric": metric.name,
        "variant": v.name,
        "control_value": fmt.value(control.mean if control else None),
        "value": fmt.value(v.mean),
        "effect": relative(v.effect),
        "low": relative(low),
        "high": relative(high),
        "p": p_value(v.p_value),
    }


def metric_tables(
    results: Results,
    formats: Formats | None = None,
    planted: Mapping[tuple[str, str], float] | None = None,
) -> list[Table]:
    """One table per role present, each with one shared scale for its bars. A guardrail
    that the decision and the health checks treat as worse (``guardrail_losses``) is
    ``worse`` on its row and in its table's header. A simulated experiment's rows carry the
    effect planted on them (``planted``; read in one query when not given)."""
    if planted is None:
        planted = planted_effects_of(results.experiment)
    labels = _role_labels()
    losses = {(loss.metric, loss.variant) for loss in guardrail_losses(results.metrics)}
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
            fmt = format_of(m, formats)
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
                        title=row_title(m, control, v, fmt),
                        markers=metric_markers(m) if i == 0 else [],
                        fmt=fmt,
                        guardrail_loss=(m.metric, v.variant) in losses,
                        planted=planted.get((m.metric, v.variant)),
                    )
                )
        tables.append(
            Table(
                role=role,
                label=labels[role],
                rows=rows,
                ticks=axis_ticks(scale),
                scale=scale,
                guardrail_worse=role == "guardrail" and any(r.outcome == WORSE for r in rows),
            )
        )
    return tables


def notable_changes(results: Results, tables: list[Table] | None = None) -> list[Row]:
    """Every comparison whose outcome is better or worse across all metrics, primary first
    (from ``tables`` when the caller has built them already)."""
    return [
        row
        for table in (metric_tables(results) if tables is None else tables)
        for row in table.rows
        if row.outcome in (BETTER, WORSE)
    ]


def guardrail_alerts(tables: list[Table]) -> list[Row]:
    """The guardrail rows that are worse: the decision banner names each of them."""
    return [row for t in tables if t.role == "guardrail" for row in t.rows if row.outcome == WORSE]


def units_split(results: Results, names: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Units per variant (by name) with their observed and planned shares."""
    names = names or {}
    total = results.units.total or 0
    expected = results.srm.expected
    expected_total = sum(x for x in expected.values() if x) or 0
    rows = []
    for key, units in results.units.by_variant.items():
        planned = expected.get(key)
        rows.append(
            {
                "variant": key,
                "name": names.get(key, key),
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
    label: str = ""  # the value in the reader's words (``analysis.words.segments``)
    p_label: str = ""  # the p-value column: adjusted across the dimension, or not corrected


def segment_p_label(results: Results, corrected: bool) -> str:
    """The segment tables' p-value column: adjusted with the plan's segment correction
    across the dimension's segments, or not corrected."""
    correction = results.plan.segment_correction
    if corrected and correction:
        name = CORRECTION_NAMES.get(correction, correction)
        return _("p-value, adjusted (%(name)s)") % {"name": name}
    return _("p-value, not corrected")


def segment_attributes(results: Results) -> list[str]:
    """The segment attributes the snapshot carries, in first-seen order."""
    return list(dict.fromkeys(s.attribute for s in results.segments))


def segment_tables(
    results: Results, attribute: str, formats: Formats | None = None
) -> tuple[list[SegmentTable], list[Any]]:
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
        p_label = segment_p_label(results, s.corrected)
        table = by_value.setdefault(
            s.value,
            SegmentTable(
                value=s.value,
                units=s.units,
                srm=s.srm,
                rows=[],
                label=segment_value_label(attribute, s.value),
                p_label=p_label,
            ),
        )
        control = next((v for v in s.variants if v.is_control), None)
        fmt = format_of(metric, formats)
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
                    p_label=p_label,
                    title=row_title(metric, control, v, fmt),
                    markers=[],
                    fmt=fmt,
                )
            )
    tables = sorted(by_value.values(), key=lambda t: segment_value_order(attribute, t.value))
    return tables, axis_ticks(scale)
