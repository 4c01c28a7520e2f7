"""Run the aggregation for one experiment phase: per-unit table, caps, per-variant sums.

The per-unit values live in a temporary table inside the database (one row per analysed unit);
Python only ever receives per-variant (and per-segment) sums, so its memory does not grow with
the number of units or events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from .columns import MetricSpec, unit_columns
from .dialect import Dialect
from .sums import capped_columns, metric_sums, metric_width, stats_from_row


@dataclass(frozen=True)
class Scope:
    """Which exposures are analysed: one experiment phase, up to ``as_of``."""

    experiment_id: int
    phase: int
    as_of: dt.datetime
    variants: dict[int, str]  # variant id -> key


def _events_join(d: Dialect, metrics: list[MetricSpec]) -> tuple[str, list[Any]]:
    names = sorted({e for m in metrics for e in m.events() if e})
    pre = max((m.pre_span() for m in metrics), default=0)
    post = max((m.post_span() for m in metrics), default=0)
    ts = d.ts("ev.timestamp")
    marks = ", ".join(["%s"] * len(names)) or "NULL"
    sql = (
        f"LEFT JOIN assignment_event ev ON ev.unit_id = u.unit_id AND ev.event IN ({marks})"
        f" AND {ts} >= {d.shift('u.first_exposed_at', -pre)}"
        f" AND {ts} < {d.shift('u.first_exposed_at', post)} AND {ts} < %s"
    )
    return sql, [*names]


@contextlib.contextmanager
def unit_table(d: Dialect, scope: Scope, metrics: list[MetricSpec]) -> Iterator[str]:
    """Create the per-unit temporary table; yields its name and drops it afterwards."""
    name = f"verdict_units_{uuid.uuid4().hex[:12]}"
    cols = unit_columns(d, metrics, scope.as_of)
    join, join_params = _events_join(d, metrics)
    ts_ev, ts_t0 = d.ts("ev.timestamp"), d.ts("u.first_exposed_at")
    select = ", ".join(
        [
            "u.id AS exposure_id",
            "u.variant_id AS variant_id",
            f"SUM(CASE WHEN {ts_ev} >= {ts_t0} THEN 1 ELSE 0 END) AS n_events",
            f"MAX(CASE WHEN {ts_ev} >= {ts_t0} THEN ev.timestamp END) AS last_event",
            *cols.exprs,
        ]
    )
    as_of = d.time_param(scope.as_of)
    on_commit = " ON COMMIT DROP" if d.postgres else ""
    sql = (
        f"CREATE TEMPORARY TABLE {name}{on_commit} AS SELECT {select}"
        f" FROM assignment_exposure u {join}"
        " WHERE u.experiment_id = %s AND u.phase = %s AND NOT u.forced"
        f" AND NOT u.multiple_variants AND {ts_t0} <= %s"
        " GROUP BY u.id, u.variant_id"
    )
    params = [*cols.params, *join_params, as_of, scope.experiment_id, scope.phase, as_of]
    # Parameter order follows the SQL text: SELECT list, then JOIN, then WHERE.
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
        cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        yield


def variant_sums(
    d: Dialect,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    *,
    group_sql: str = "",
    from_sql: str = "",
    where_sql: str = "",
    tail_params: list[Any] | None = None,
    group_width: int = 0,
) -> list[tuple[tuple[Any, ...], int, dict[str, tuple[Any, int]]]]:
    """Rows of ((group values..., variant id), units, {metric key: (stats, immature)}).

    ``tail_params`` are the parameters of ``from_sql`` and ``where_sql``, in order.
    """
    exprs: list[str] = []
    params: list[Any] = []
    for m in metrics:
        e, p = metric_sums(d, m, caps)
        exprs.extend(e)
        params.extend(p)
    groups = f"{group_sql}, " if group_sql else ""
    sql = (
        f"SELECT {groups}t.variant_id, COUNT(*), {', '.join(exprs) or '0'}"
        f" FROM {table} t {from_sql} {where_sql}"
        f" GROUP BY {', '.join(str(i + 1) for i in range(group_width + 1))}"
    )
    out = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *(tail_params or [])])
        for row in cursor.fetchall():
            key = tuple(row[: group_width + 1])
            units = int(row[group_width + 1])
            pos = group_width + 2
            per_metric = {}
            for m in metrics:
                width = metric_width(m)
                per_metric[m.key] = stats_from_row(m, units, row[pos : pos + width])
                pos += width
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
