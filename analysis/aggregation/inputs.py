"""The inputs of a snapshot: every sufficient statistic of one experiment phase, typed
(``analysis.engine.contract.SnapshotInputs``; the snapshot stores its JSON)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q

from analysis.engine.contract import (
    METRIC_OK,
    VALUES_OUT_OF_RANGE,
    Excluded,
    Freshness,
    MetricInputs,
    PointInputs,
    SegmentInputs,
    SnapshotInputs,
    VariantSpec,
)
from analysis.engine.stats import ArmStats
from assignment.models import Exposure
from assignment.tables import EventTable, ExposureTable
from experiments.models import Experiment, MetricRole, Phase

from .columns import MetricSpec
from .curves import expand_curves
from .history import HistorySpec, history_spec, history_sums
from .query import (
    ColumnScan,
    DatabaseRunner,
    Row,
    Runner,
    Scope,
    caps_for,
    column_scan,
    unit_table,
    unit_totals,
    variant_sums,
)
from .segments import DayRow, exposure_days, segment_sums, segment_values
from .source import source
from .sums import metric_caps, zero_stats

ROLE_ORDER = {MetricRole.PRIMARY: 0, MetricRole.SECONDARY: 1, MetricRole.GUARDRAIL: 2}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def metric_specs(experiment: Experiment) -> list[MetricSpec]:
    """The experiment's metrics as the aggregation computes them, in report order: primary,
    secondary, guardrails; a curve metric as its points, the headline first
    (``curves.expand_curves``)."""
    links = sorted(
        experiment.metric_links.select_related("metric"),
        key=lambda link: (ROLE_ORDER.get(link.role, 9), link.position, link.id),
    )
    specs = []
    for i, link in enumerate(links):
        m = link.metric
        specs.append(
            MetricSpec(
                index=i,
                key=m.key,
                name=m.name,
                type=m.type,
                role=link.role,
                event=m.event,
                value_field=m.value_field or None,
                numerator=m.numerator,
                denominator=m.denominator,
                window_hours=m.window_hours,
                retention_day=m.retention_day,
                filter=m.filter or None,
                min_events=m.min_events,
                among_converted=m.among_converted,
                activity=m.activity or None,
                horizon_days=m.horizon_days,
                winsorize_percentile=m.winsorize_percentile,
                higher_is_better=m.higher_is_better,
                cuped=bool(experiment.cuped and m.type == "mean"),
            )
        )
    return expand_curves(specs)


def _variants(experiment: Experiment) -> list[dict[str, Any]]:
    phase = Phase.objects.filter(experiment=experiment, number=experiment.phase).first()
    weights = (phase.weights if phase else None) or {}
    return [
        {
            "id": v.id,
            "key": v.key,
            "name": v.name,
            "weight": float(weights.get(v.key, v.weight)),
            "is_control": v.is_control,
        }
        for v in experiment.variants.order_by("-is_control", "position", "id")
    ]


def _exposure_counts(experiment: Experiment, as_of: dt.datetime) -> dict[str, Any]:
    return Exposure.objects.filter(
        experiment=experiment, phase=experiment.phase, first_exposed_at__lte=as_of
    ).aggregate(
        n_forced=Count("id", filter=Q(forced=True)),
        n_multiple=Count("id", filter=Q(multiple_variants=True)),
        n_excluded=Count("id", filter=Q(forced=True) | Q(multiple_variants=True)),
        last=Max("first_exposed_at"),
    )


@dataclass(frozen=True)
class Aggregates:
    """Everything the engine computed over the per-unit table (sums, never units)."""

    caps: dict[str, float]
    scan: ColumnScan
    rows: list[Row]
    events: int
    last_event: dt.datetime | None
    segment_rows: list[Row]
    day_rows: list[DayRow]


def aggregate(
    runner: Runner,
    exposures: ExposureTable,
    table: str,
    metrics: list[MetricSpec],
    *,
    unit_attribute: str,
    segments: bool = True,
    history: tuple[EventTable, HistorySpec | None] | None = None,
) -> Aggregates:
    """The queries over a per-unit table ``table`` (``query.unit_select``): caps, shifts,
    per-variant sums, totals, the primary metric's segments (unless ``segments`` is false:
    a third of a refresh's cost, left out of a history's past days) and the units per
    exposure day. ``exposures`` names the relation the units' attributes and first exposure
    times are read from; ``history``: the events relation and the experiment's history
    segments (``history.history_spec``), added to the segments."""
    primary = [m for m in metrics if m.role == MetricRole.PRIMARY][:1]
    caps = caps_for(runner, table, metrics)
    scan = column_scan(runner, table, metrics, caps)
    rows = variant_sums(runner, table, metrics, caps, scan.shifts)
    events, last_event = unit_totals(runner, table)
    seg_rows: list[Row] = []
    if primary and segments:
        top = segment_values(runner, exposures, table, exclude={unit_attribute})
        seg_rows = segment_sums(runner, exposures, table, primary, caps, scan.shifts, top)
        if history is not None:  # segments from the units' history (``history.py``)
            event_table, spec = history
            seg_rows += history_sums(
                runner, exposures, event_table, table, primary, caps, scan.shifts, spec
            )
    days = exposure_days(runner, exposures, table)
    return Aggregates(caps, scan, rows, events, last_event, seg_rows, days)


def experiment_variants(experiment: Experiment) -> list[dict[str, Any]]:
    """The experiment's variants (control first) with the current phase's weights."""
    return _variants(experiment)


def experiment_inputs(
    *, experiment: Experiment, as_of: dt.datetime, segments: bool = True
) -> SnapshotInputs:
    """Aggregate one experiment's current phase up to ``as_of`` (see docs/analysis.md), from
    the application database; ``segments=False`` leaves out the segment breakdown."""
    runner = DatabaseRunner()
    variants = _variants(experiment)
    metrics = metric_specs(experiment)
    scope = Scope(experiment.id, experiment.phase, as_of)
    counts = _exposure_counts(experiment, as_of)
    with unit_table(runner, scope, metrics) as table:
        agg = aggregate(
            runner,
            source().exposures,
            table,
            metrics,
            unit_attribute=experiment.unit_attribute,
            segments=segments,
            history=(source().events, history_spec(experiment.history_segments)),
        )
    return inputs_from(
        experiment=experiment,
        as_of=as_of,
        variants=variants,
        variant_keys={v["id"]: v["key"] for v in variants},
        metrics=metrics,
        agg=agg,
        counts=counts,
    )


def inputs_from(
    *,
    experiment: Experiment,
    as_of: dt.datetime,
    variants: list[dict[str, Any]],
    variant_keys: dict[Any, str],
    metrics: list[MetricSpec],
    agg: Aggregates,
    counts: dict[str, Any],
) -> SnapshotInputs:
    """The snapshot inputs from an engine's aggregates. ``variant_keys`` maps the
    exposures' variant values (ids, or keys in a lake) to variant keys; ``counts``: the
    exposures' ``n_forced``, ``n_multiple``, ``n_excluded`` and ``last`` (newest exposure)."""
    by_id = variant_keys
    primary = [m for m in metrics if m.role == MetricRole.PRIMARY][:1]
    caps, scan, rows, events, last_event = (
        agg.caps,
        agg.scan,
        agg.rows,
        agg.events,
        agg.last_event,
    )
    seg_rows = agg.segment_rows
    units = {v["key"]: 0 for v in variants}
    stats: dict[str, dict[str, ArmStats]] = {
        m.key: {k: zero_stats(m) for k in units} for m in metrics
    }
    immature: dict[str, dict[str, int]] = {m.key: dict.fromkeys(units, 0) for m in metrics}
    for (variant_id,), n, per_metric in rows:
        key = by_id.get(variant_id)
        if key is None:
            continue
        units[key] = n
        for mkey, (s, imm) in per_metric.items():
            stats[mkey][key] = s
            immature[mkey][key] = imm

    # (attribute, value) -> (units, stats) per variant key
    segments: dict[tuple[str, str], tuple[dict[str, int], dict[str, ArmStats]]] = {}
    for (attr, value, variant_id), n, per_metric in seg_rows:
        key = by_id.get(variant_id)
        if key is None:
            continue
        seg_units, seg_stats = segments.setdefault(
            (attr, value),
            (dict.fromkeys(units, 0), {k: zero_stats(primary[0]) for k in units}),
        )
        seg_units[key] = n
        seg_stats[key] = per_metric[primary[0].key][0]

    units_by_day: dict[str, dict[str, int]] = {}
    for day, variant_id, n in sorted(agg.day_rows, key=lambda r: r[0]):
        key = by_id.get(variant_id)
        if key is not None:
            units_by_day.setdefault(day, dict.fromkeys(units, 0))[key] = n

    out_of_range = scan.out_of_range
    # A curve's points (``MetricSpec.parent``) make one metric, the headline point's statistics
    # its own; every other metric is its own group.
    groups: dict[str, list[MetricSpec]] = {}
    for m in metrics:
        groups.setdefault(m.parent or m.key, []).append(m)
    return SnapshotInputs(
        experiment=experiment.key,
        phase=experiment.phase,
        as_of=as_of.isoformat(),
        status=experiment.status,
        started_at=_iso(experiment.started_at),
        variants=tuple(
            VariantSpec(
                key=v["key"], name=v["name"], weight=v["weight"], is_control=v["is_control"]
            )
            for v in variants
        ),
        units=units,
        excluded=Excluded(
            forced=counts["n_forced"],
            multiple_variants=counts["n_multiple"],
            total=counts["n_excluded"],
        ),
        events=events,
        freshness=Freshness(last_exposure_at=_iso(counts["last"]), last_event_at=_iso(last_event)),
        metrics=tuple(
            _metric_inputs(key, group, stats, immature, metric_caps(group[0], caps), out_of_range)
            for key, group in groups.items()
        ),
        segments=tuple(
            SegmentInputs(
                attribute=attr,
                value=value,
                metric=primary[0].parent or primary[0].key,
                units=seg_units,
                stats=seg_stats,
            )
            for (attr, value), (seg_units, seg_stats) in sorted(
                segments.items(), key=lambda item: (item[0][0], item[0][1] == "other", item[0][1])
            )
        ),
        units_by_day=units_by_day,
    )


def _metric_inputs(
    key: str,
    group: list[MetricSpec],
    stats: dict[str, dict[str, ArmStats]],
    immature: dict[str, dict[str, int]],
    caps: dict[str, float],
    out_of_range: dict[str, int],
) -> MetricInputs:
    """One metric's inputs: a metric's own, or a curve's from its points (``group``, the
    headline first)."""
    m = group[0]
    outside = sum(out_of_range.get(p.key, 0) for p in group)
    return MetricInputs(
        metric=key,
        name=m.name,
        type=m.type,
        role=m.role,
        higher_is_better=m.higher_is_better,
        window_hours=m.window_hours,
        retention_day=m.retention_day,
        winsorize_percentile=m.winsorize_percentile,
        cuped=m.cuped,
        caps=caps,
        stats=stats[m.key],
        immature_units=immature[m.key],
        # Some units' event values were beyond +-VALUE_LIMIT and were counted as the limit: the
        # metric's sums do not describe the stored data.
        status=VALUES_OUT_OF_RANGE if outside else METRIC_OK,
        out_of_range_units=outside,
        points=tuple(
            PointInputs(
                point=p.point,
                day_from=p.low_day,
                day_to=p.high_day,
                stats=stats[p.key],
                immature_units=immature[p.key],
            )
            for p in group
            if p.point is not None
        ),
    )
