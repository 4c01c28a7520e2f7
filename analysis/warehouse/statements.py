"""The statements one Spark aggregation runs, in order, as canonical SQL (for reading and
for the golden files in tests/analysis/warehouse/golden/). The caps, shifts and top segment
values come from earlier statements' results; here they are given."""

from __future__ import annotations

import datetime as dt

from analysis.aggregation.columns import MetricSpec
from analysis.aggregation.query import (
    Scope,
    column_scan_sql,
    percentiles_sql,
    totals_sql,
    unit_select,
    variant_sums_sql,
)
from analysis.aggregation.segments import segment_sums_sql, segment_values_sql
from analysis.aggregation.source import Source
from analysis.aggregation.sums import capped_columns


def aggregation_statements(
    *,
    src: Source,
    units_table: str,
    experiment: str,
    phase: int,
    as_of: dt.datetime,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    top: dict[str, list[str]],
) -> list[tuple[str, str]]:
    """(title, canonical SQL) of each statement, in the order the engine runs them."""
    primary = [m for m in metrics if m.role == "primary"][:1]
    scan, _, _ = column_scan_sql(units_table, metrics, caps)
    out = [
        (
            "per-unit table (cached in the executors)",
            unit_select(src, Scope(experiment, phase, as_of), metrics),
        ),
        ("winsorization caps", percentiles_sql(units_table, capped_columns(metrics))),
        ("column scan: shifts and values out of range", scan),
        ("per-variant sufficient statistics", variant_sums_sql(units_table, metrics, caps, shifts)),
        ("events counted and the newest event", totals_sql(units_table)),
        ("segment values", segment_values_sql(src.exposures, units_table)),
        (
            "per-segment sufficient statistics (primary metric)",
            segment_sums_sql(src.exposures, units_table, primary, caps, shifts, top),
        ),
    ]
    return [(title, sql) for title, sql in out if sql]
