"""Run the aggregation for one experiment phase: per-unit table, caps, per-variant sums.

The per-unit values live in a temporary table inside the database (one row per analysed unit);
Python only ever receives per-variant (and per-segment) sums, so its memory does not grow with
the number of units or events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from .columns import MetricSpec, UnitContext, metric_columns, unit_columns
from .dialect import VALUE_LIMIT, Dialect, Fragment, merge_params
from .source import Source, source
from .sums import (
    capped_columns,
    column_shift,
    column_values,
    metric_select,
    shifted_columns,
    stats_from_row,
)


@dataclass(frozen=True)
class Scope:
    """Which exposures are analysed: one experiment phase, up to ``as_of``."""

    experiment_id: int
    phase: int
    as_of: dt.datetime
    variants: dict[int, str]  # variant id -> key


def _events_join(d: Dialect, src: Source, metrics: list[MetricSpec]) -> Fragment:
    """The events of the metrics' names inside the widest window of any metric, before
    ``as_of`` (the ``%(as_of)s`` parameter, which the caller supplies)."""
    u, ev = src.u, src.ev
    names = sorted({e for m in metrics for e in m.events() if e})
    pre = max((m.pre_span() for m in metrics), default=0)
    post = max((m.post_span() for m in metrics), default=0)
    ts = d.ts(ev.timestamp)
    params = {f"event_{i}": name for i, name in enumerate(names)}
    marks = ", ".join(f"%({p})s" for p in params) or "NULL"
    return Fragment(
        f"LEFT JOIN {ev.table} ev ON {ev.unit_id} = {u.unit_id} AND {ev.event} IN ({marks})"
        f" AND {ts} >= {d.shift(u.first_exposed_at, -pre)}"
        f" AND {ts} < {d.shift(u.first_exposed_at, post)} AND {ts} < %(as_of)s",
        params,
    )


@contextlib.contextmanager
def unit_table(d: Dialect, scope: Scope, metrics: list[MetricSpec]) -> Iterator[str]:
    """Create the per-unit temporary table; yields its name and drops it afterwards.

    Its columns: ``exposure_id``, ``variant_id``, ``n_events`` and ``last_event`` (events
    counted from exposure on), then every metric's per-unit columns (``columns.py``).
    """
    name = f"verdict_units_{uuid.uuid4().hex[:12]}"
    src = source(d)
    u, ev = src.u, src.ev
    cols = unit_columns(UnitContext(d, src, scope.as_of), metrics)
    join = _events_join(d, src, metrics)
    ts_ev, ts_t0 = d.ts(ev.timestamp), d.ts(u.first_exposed_at)
    select = ", ".join(
        [
            f"{u.id} AS exposure_id",
            f"{u.variant} AS variant_id",
            f"SUM(CASE WHEN {ts_ev} >= {ts_t0} THEN 1 ELSE 0 END) AS n_events",
            f"MAX(CASE WHEN {ts_ev} >= {ts_t0} THEN {ev.timestamp} END) AS last_event",
            *cols.exprs,
        ]
    )
    on_commit = " ON COMMIT DROP" if d.postgres else ""
    sql = (
        f"CREATE TEMPORARY TABLE {name}{on_commit} AS SELECT {select}"
        f" FROM {u.table} u {join.sql}"
        f" WHERE {u.experiment} = %(experiment_id)s AND {u.phase} = %(phase)s"
        f" AND NOT {u.forced} AND NOT {u.multiple_variants} AND {ts_t0} <= %(as_of)s"
        f" GROUP BY {u.id}, {u.variant}"
    )
    params = merge_params(
        cols.params,
        join.params,
        {
            "as_of": d.time_param(scope.as_of),
            "experiment_id": scope.experiment_id,
            "phase": scope.phase,
        },
    )
    with _session(d), connection.cursor() as cursor:
        cursor.execute(sql, params)
        if d.postgres:
            cursor.execute(f"ANALYZE {name}")
        try:
            yield name
        finally:
            if not d.postgres:
                cursor.execute(f"DROP TABLE IF EXISTS temp.{name}", [])


@contextlib.contextmanager
def _session(d: Dialect) -> Iterator[None]:
    if not d.postgres:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        work_mem = getattr(settings, "VERDICT_ANALYSIS_WORK_MEM", "256MB")
        cursor.execute("SELECT set_config('work_mem', %(work_mem)s, true)", {"work_mem": work_mem})
        yield


Row = tuple[tuple[Any, ...], int, dict[str, tuple[Any, int]]]


def variant_sums(
    d: Dialect,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    *,
    groups: Sequence[str] = (),
    from_sql: str = "",
    where_sql: str = "",
    extra_params: dict[str, Any] | None = None,
) -> list[Row]:
    """Rows of ((group values..., variant id), units, {metric key: (stats, immature)}).

    ``groups`` are expressions to group by before the variant; ``extra_params`` are the
    named parameters of ``from_sql`` and ``where_sql``; ``shifts`` (per-unit column -> shift,
    from ``column_scan``) centre the sums.
    """
    keys = [f"{g} AS g{i}" for i, g in enumerate(groups)]
    selects = [metric_select(d, m, caps, shifts) for m in metrics]
    sums = [f.sql for f in selects if f.sql]
    sql = (
        f"SELECT {', '.join([*keys, 't.variant_id AS variant_id', 'COUNT(*) AS n_units'])}"
        f"{''.join(', ' + s for s in sums)}"
        f" FROM {table} t {from_sql} {where_sql}"
        f" GROUP BY {', '.join(str(i + 1) for i in range(len(groups) + 1))}"
    )
    params = merge_params(*(f.params for f in selects), extra_params or {})
    out = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            key = (*(row[f"g{i}"] for i in range(len(groups))), row["variant_id"])
            units = int(row["n_units"])
            per_metric = {m.key: stats_from_row(m, units, row, shifts) for m in metrics}
            out.append((key, units, per_metric))
    return out


def unit_totals(table: str) -> tuple[int, dt.datetime | None]:
    """(events counted, newest event counted) over the per-unit table."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(n_events), 0), MAX(last_event) FROM {table}", [])
        events, last = cursor.fetchone()
    if isinstance(last, str):
        last = parse_datetime(last.replace(" ", "T"))
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
    return int(events), last


def caps_for(d: Dialect, table: str, metrics: list[MetricSpec]) -> dict[str, float]:
    with connection.cursor() as cursor:
        return d.percentiles(cursor, table, capped_columns(metrics))


@dataclass(frozen=True)
class ColumnScan:
    """One pass over the per-unit table before the sums: each shifted column's shift, and
    per metric the units with a value at +-``VALUE_LIMIT`` (an event value out of range)."""

    shifts: dict[str, float]
    out_of_range: dict[str, int]


def column_scan(
    d: Dialect, table: str, metrics: list[MetricSpec], caps: dict[str, float]
) -> ColumnScan:
    """Pooled over all analysed units (capped values when winsorized): the mean and mean of
    squares of every shifted column, giving its shift (``sums.column_shift``), and the count
    of units whose value reached the limit."""
    moments: list[str] = []
    checks: list[str] = []
    params: dict[str, Any] = {}
    shifted: list[str] = []
    checked: list[tuple[str, str]] = []
    for m in metrics:
        values, cap_params = column_values(d, m, caps)
        params = merge_params(params, cap_params)
        names = metric_columns(m)
        for name in shifted_columns(m):
            v = values[name]
            # SUM, not AVG: PostgreSQL's AVG(double precision) also accumulates squares of
            # its inputs, which overflow for squared values near the limit.
            moments += [f"COUNT({v})", f"SUM({v})", f"SUM({v} * {v})"]
            shifted.append(names[name])
        for name, v in values.items():
            checks.append(f"SUM(CASE WHEN ABS({v}) >= %(value_limit)s THEN 1 ELSE 0 END)")
            checked.append((m.key, names[name]))
    exprs = moments + checks
    if not exprs:
        return ColumnScan({}, {})
    params["value_limit"] = VALUE_LIMIT
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(exprs)} FROM {table}", params)
        row = list(cursor.fetchone())
    shifts: dict[str, float] = {}
    for i, column in enumerate(shifted):
        count, total, squares = row[3 * i : 3 * i + 3]
        if count:
            shift = column_shift(float(total) / count, float(squares) / count)
            if shift:
                shifts[column] = shift
    out_of_range: dict[str, int] = {}
    for (key, _column), count in zip(checked, row[3 * len(shifted) :], strict=True):
        out_of_range[key] = out_of_range.get(key, 0) + int(count or 0)
    return ColumnScan(shifts, out_of_range)
