"""The aggregation's queries for one experiment phase: per-unit table, caps, per-variant sums.

Each query is built once as canonical SQL (``dialect.py``) and run by a ``Runner``, which
emits it for its engine (``render.py``) and returns the rows. The per-unit values live in a
table inside the engine (a temporary table in the application database, a cached view on
Spark; one row per analysed unit); Python only ever receives per-variant (and per-segment)
sums, so its memory does not grow with the number of units or events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction

from .columns import MetricSpec, UnitContext, metric_columns, unit_columns
from .dialect import VALUE_LIMIT, Dialect, lit
from .render import render
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
    """Which exposures are analysed: one experiment phase, up to ``as_of``. ``experiment``
    is the value of the exposures' experiment column (the id in the application database,
    the key in a lake)."""

    experiment: int | str
    phase: int
    as_of: dt.datetime


class Runner(Protocol):
    """Runs canonical SQL on one engine and returns (column names, rows)."""

    dialect: Dialect

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]: ...


class DatabaseRunner:
    """The application database (PostgreSQL or SQLite) through Django's connection."""

    def __init__(self) -> None:
        self.dialect = Dialect(connection.vendor)

    def execute(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with connection.cursor() as cursor:
            # No parameters: every constant is an SQL literal (quoted by sqlglot), and
            # without parameters no driver reads % signs as placeholders.
            cursor.execute(render(sql, self.dialect))
            names = [c[0] for c in cursor.description]
            return names, [tuple(r) for r in cursor.fetchall()]


def _events_join(src: Source, metrics: list[MetricSpec], as_of: dt.datetime) -> str:
    """The events of the metrics' names inside the widest window of any metric, before
    ``as_of``."""
    u, ev = src.u, src.ev
    names = sorted({e for m in metrics for e in m.events() if e})
    pre = max((m.pre_span() for m in metrics), default=0)
    post = max((m.post_span() for m in metrics), default=0)
    ts = f"VERDICT_TS({ev.timestamp})"
    marks = ", ".join(lit(n) for n in names) or "NULL"
    return (
        f"LEFT JOIN {ev.table} AS ev ON {ev.unit_id} = {u.unit_id} AND {ev.event} IN ({marks})"
        f" AND {ts} >= VERDICT_SHIFT({u.first_exposed_at}, {-pre})"
        f" AND {ts} < VERDICT_SHIFT({u.first_exposed_at}, {post}) AND {ts} < {lit(as_of)}"
    )


def unit_select(src: Source, scope: Scope, metrics: list[MetricSpec]) -> str:
    """The per-unit SELECT (canonical SQL), one row per analysed unit.

    Its columns: ``exposure_id`` (the unit's exposure: its id, or its unit id in a lake),
    ``variant_id`` (the exposures' variant column), ``n_events`` and ``last_event`` (events
    counted from exposure on; the time as ``VERDICT_TS``), then every metric's per-unit
    columns (``columns.py``). Excluded: forced and multiple-variant units, units exposed
    after ``as_of``; events after ``as_of`` are not counted.
    """
    u, ev = src.u, src.ev
    cols = unit_columns(UnitContext(src, scope.as_of), metrics)
    ts_ev, ts_t0 = f"VERDICT_TS({ev.timestamp})", f"VERDICT_TS({u.first_exposed_at})"
    select = ", ".join(
        [
            f"{u.id} AS exposure_id",
            f"{u.variant} AS variant_id",
            f"SUM(CASE WHEN {ts_ev} >= {ts_t0} THEN 1 ELSE 0 END) AS n_events",
            f"MAX(CASE WHEN {ts_ev} >= {ts_t0} THEN {ts_ev} END) AS last_event",
            *cols.exprs,
        ]
    )
    return (
        f"SELECT {select} FROM {u.table} AS u {_events_join(src, metrics, scope.as_of)}"
        f" WHERE {u.experiment} = {lit(scope.experiment)} AND {u.phase} = {lit(scope.phase)}"
        f" AND NOT {u.forced} AND NOT {u.multiple_variants} AND {ts_t0} <= {lit(scope.as_of)}"
        f" GROUP BY {u.id}, {u.variant}"
    )


@contextlib.contextmanager
def unit_table(runner: DatabaseRunner, scope: Scope, metrics: list[MetricSpec]) -> Iterator[str]:
    """Create the per-unit temporary table in the application database; yields its name and
    drops it afterwards."""
    d = runner.dialect
    name = f"verdict_units_{uuid.uuid4().hex[:12]}"
    select = render(unit_select(source(), scope, metrics), d)
    on_commit = " ON COMMIT DROP" if d.postgres else ""
    with _session(d):
        runner.execute(f"CREATE TEMPORARY TABLE {name}{on_commit} AS {select}")
        if d.postgres:
            runner.execute(f"ANALYZE {name}")
        else:
            # SQLite joins by nested loops: a query joining a derived per-unit table back to
            # this one by exposure (the history segments) needs the index, or scans it per unit.
            runner.execute(f"CREATE INDEX temp.{name}_exposure ON {name} (exposure_id)")
        try:
            yield name
        finally:
            if not d.postgres:
                runner.execute(f"DROP TABLE IF EXISTS temp.{name}")


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


def variant_sums_sql(
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    *,
    groups: Sequence[str] = (),
    from_sql: str = "",
    where_sql: str = "",
) -> str:
    """The per-variant sums over ``table t {from_sql} {where_sql}`` (canonical SQL), grouped
    by ``groups`` (aliased ``g0``, ``g1``, ...) and the variant."""
    keys = [f"{g} AS g{i}" for i, g in enumerate(groups)]
    sums = [s for s in (metric_select(m, caps, shifts) for m in metrics) if s]
    return (
        f"SELECT {', '.join([*keys, 't.variant_id AS variant_id', 'COUNT(*) AS n_units'])}"
        f"{''.join(', ' + s for s in sums)}"
        f" FROM {table} AS t {from_sql} {where_sql}"
        f" GROUP BY {', '.join([*groups, 't.variant_id'])}"
    )


def variant_sums(
    runner: Runner,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
) -> list[Row]:
    """Rows of ((variant id,), units, {metric key: (stats, immature)}); ``shifts``
    (per-unit column -> shift, from ``column_scan``) centre the sums."""
    return variant_rows(runner, variant_sums_sql(table, metrics, caps, shifts), metrics, shifts)


def variant_rows(
    runner: Runner,
    sql: str,
    metrics: list[MetricSpec],
    shifts: dict[str, float],
    *,
    groups: int = 0,
) -> list[Row]:
    """Run a ``variant_sums_sql`` query with ``groups`` group expressions: rows of ((group
    values..., variant id), units, {metric key: (stats, immature)})."""
    names, rows = runner.rows(sql)
    out = []
    for values in rows:
        row = dict(zip(names, values, strict=True))
        key = (*(row[f"g{i}"] for i in range(groups)), row["variant_id"])
        units = int(row["n_units"])
        per_metric = {m.key: stats_from_row(m, units, row, shifts) for m in metrics}
        out.append((key, units, per_metric))
    return out


def totals_sql(table: str) -> str:
    """Events counted and the newest event's time over the per-unit table."""
    return f"SELECT COALESCE(SUM(n_events), 0), MAX(last_event) FROM {table}"


def unit_totals(runner: Runner, table: str) -> tuple[int, dt.datetime | None]:
    """(events counted, newest event counted) over the per-unit table."""
    _, rows = runner.rows(totals_sql(table))
    events, last = rows[0]
    return int(events), runner.dialect.time_from_db(last)


def percentiles_sql(table: str, wanted: dict[str, float]) -> str:
    """Per column, its percentile (0-100) in one pass (engines with an exact percentile
    aggregate: PostgreSQL and Spark)."""
    parts = ", ".join(f"VERDICT_PERCENTILE({col}, {pct / 100.0!r})" for col, pct in wanted.items())
    return f"SELECT {parts} FROM {table}"


def caps_for(runner: Runner, table: str, metrics: list[MetricSpec]) -> dict[str, float]:
    """Per capped column, the percentile (0-100) of its values by linear interpolation (the
    same definition as ``percentile_cont``, Spark's ``percentile`` and numpy's default)."""
    wanted = capped_columns(metrics)
    if not wanted:
        return {}
    if not runner.dialect.sqlite:
        _, rows = runner.rows(percentiles_sql(table, wanted))
        return {col: float(v) for col, v in zip(wanted, rows[0], strict=True) if v is not None}
    _, rows = runner.rows(f"SELECT COUNT(*) FROM {table}")
    n = rows[0][0]
    out: dict[str, float] = {}
    if not n:
        return out
    for col, pct in wanted.items():
        pos = (n - 1) * pct / 100.0
        low = math.floor(pos)
        _, rows = runner.rows(f"SELECT {col} FROM {table} ORDER BY {col} LIMIT 2 OFFSET {low}")
        values = [float(r[0]) for r in rows]
        high_value = values[1] if len(values) > 1 else values[0]
        out[col] = values[0] + (high_value - values[0]) * (pos - low)
    return out


@dataclass(frozen=True)
class ColumnScan:
    """One pass over the per-unit table before the sums: each shifted column's shift, and
    per metric the units with a value at +-``VALUE_LIMIT`` (an event value out of range)."""

    shifts: dict[str, float]
    out_of_range: dict[str, int]


def column_scan_sql(
    table: str, metrics: list[MetricSpec], caps: dict[str, float]
) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(The scan's canonical SQL, or "" when there is nothing to scan; the shifted columns in
    order, three moments each; the (metric, column) of each range check after them)."""
    moments: list[str] = []
    checks: list[str] = []
    shifted: list[str] = []
    checked: list[tuple[str, str]] = []
    for m in metrics:
        values = column_values(m, caps)
        names = metric_columns(m)
        for name in shifted_columns(m):
            v = values[name]
            # SUM, not AVG: PostgreSQL's AVG(double precision) also accumulates squares of
            # its inputs, which overflow for squared values near the limit.
            moments += [f"COUNT({v})", f"SUM({v})", f"SUM({v} * {v})"]
            shifted.append(names[name])
        for name, v in values.items():
            checks.append(f"SUM(CASE WHEN ABS({v}) >= {lit(VALUE_LIMIT)} THEN 1 ELSE 0 END)")
            checked.append((m.key, names[name]))
    exprs = moments + checks
    if not exprs:
        return "", shifted, checked
    return f"SELECT {', '.join(exprs)} FROM {table}", shifted, checked


def column_scan(
    runner: Runner, table: str, metrics: list[MetricSpec], caps: dict[str, float]
) -> ColumnScan:
    """Pooled over all analysed units (capped values when winsorized): the mean and mean of
    squares of every shifted column, giving its shift (``sums.column_shift``), and the count
    of units whose value reached the limit."""
    sql, shifted, checked = column_scan_sql(table, metrics, caps)
    if not sql:
        return ColumnScan({}, {})
    _, rows = runner.rows(sql)
    row = list(rows[0])
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
