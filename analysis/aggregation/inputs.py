"""The inputs of a snapshot: every sufficient statistic of one experiment phase, as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Q

from assignment.models import Exposure
from experiments.models import Experiment, MetricRole, Phase

from .columns import MetricSpec
from .dialect import Dialect
from .query import Scope, caps_for, column_scan, unit_table, unit_totals, variant_sums
from .segments import segment_sums, segment_values
from .sums import metric_caps, zero_stats

# A metric status in the inputs: some event values were beyond +-VALUE_LIMIT and were
# counted as the limit, so the metric's sums do not describe the stored data.
VALUES_OUT_OF_RANGE = "values_out_of_range"

ROLE_ORDER = {MetricRole.PRIMARY: 0, MetricRole.SECONDARY: 1, MetricRole.GUARDRAIL: 2}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _range_status(units: int) -> dict[str, Any]:
    """The keys a metric gets when some unit's value reached ``VALUE_LIMIT`` (none otherwise,
    so ordinary inputs keep the keys they always had)."""
    if not units:
        return {}
    return {"status": VALUES_OUT_OF_RANGE, "out_of_range_units": units}


def metric_specs(experiment: Experiment) -> list[MetricSpec]:
    """The experiment's metrics in report order: primary, secondary, guardrails."""
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
                winsorize_percentile=m.winsorize_percentile,
                higher_is_better=m.higher_is_better,
                cuped=bool(experiment.cuped and m.type == "mean"),
            )
        )
    return specs


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


def experiment_inputs(*, experiment: Experiment, as_of: dt.datetime) -> dict[str, Any]:
    """Aggregate one experiment's current phase up to ``as_of`` (see docs/analysis.md)."""
    d = Dialect(connection.vendor)
    variants = _variants(experiment)
    by_id = {v["id"]: v["key"] for v in variants}
    metrics = metric_specs(experiment)
    primary = [m for m in metrics if m.role == MetricRole.PRIMARY][:1]
    scope = Scope(experiment.id, experiment.phase, as_of, by_id)
    counts = _exposure_counts(experiment, as_of)

    with unit_table(d, scope, metrics) as table:
        caps = caps_for(d, table, metrics)
        scan = column_scan(d, table, metrics, caps)
        rows = variant_sums(d, table, metrics, caps, scan.shifts)
        events, last_event = unit_totals(table)
        top = segment_values(d, table, exclude={experiment.unit_attribute})
        seg_rows = segment_sums(d, table, primary, caps, scan.shifts, top) if primary else []

    units = {v["key"]: 0 for v in variants}
    stats: dict[str, dict[str, Any]] = {m.key: {k: zero_stats(m) for k in units} for m in metrics}
    immature: dict[str, dict[str, int]] = {m.key: dict.fromkeys(units, 0) for m in metrics}
    for (variant_id,), n, per_metric in rows:
        key = by_id.get(variant_id)
        if key is None:
            continue
        units[key] = n
        for mkey, (s, imm) in per_metric.items():
            stats[mkey][key] = s
            immature[mkey][key] = imm

    segments: dict[tuple[str, str], dict[str, Any]] = {}
    for (attr, value, variant_id), n, per_metric in seg_rows:
        key = by_id.get(variant_id)
        if key is None:
            continue
        seg = segments.setdefault(
            (attr, value),
            {
                "attribute": attr,
                "value": value,
                "metric": primary[0].key,
                "units": dict.fromkeys(units, 0),
                "stats": {k: zero_stats(primary[0]).to_dict() for k in units},
            },
        )
        seg["units"][key] = n
        seg["stats"][key] = per_metric[primary[0].key][0].to_dict()

    return {
        "experiment": experiment.key,
        "phase": experiment.phase,
        "as_of": as_of.isoformat(),
        "status": experiment.status,
        "started_at": _iso(experiment.started_at),
        "variants": [{k: v for k, v in var.items() if k != "id"} for var in variants],
        "units": units,
        "excluded": {
            "forced": counts["n_forced"],
            "multiple_variants": counts["n_multiple"],
            "total": counts["n_excluded"],
        },
        "events": events,
        "freshness": {
            "last_exposure_at": _iso(counts["last"]),
            "last_event_at": _iso(last_event),
        },
        "metrics": [
            {
                "metric": m.key,
                "name": m.name,
                "type": m.type,
                "role": m.role,
                "higher_is_better": m.higher_is_better,
                "window_hours": m.window_hours,
                "retention_day": m.retention_day,
                "winsorize_percentile": m.winsorize_percentile,
                "cuped": m.cuped,
                "caps": metric_caps(m, caps),
                "stats": {k: s.to_dict() for k, s in stats[m.key].items()},
                "immature_units": immature[m.key],
                **_range_status(scan.out_of_range.get(m.key, 0)),
            }
            for m in metrics
        ],
        "segments": sorted(
            segments.values(), key=lambda s: (s["attribute"], s["value"] == "other", s["value"])
        ),
    }
