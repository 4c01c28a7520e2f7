"""Segment breakdowns: per exposure attribute value (top values, the rest as "other"), and
the analysed units per day of first exposure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from assignment.tables import ExposureTable

from .columns import MetricSpec
from .dialect import lit
from .query import Row, Runner, variant_rows, variant_sums_sql
from .source import exposures_as

TOP_VALUES = 20
MAX_KEYS = 30
# A key with more distinct values than this is an identifier, not a segment.
MAX_DISTINCT = 1000
IDENTIFIER_KEYS = {"id", "unit_id", "user_id", "account_id", "device_id", "email", "session_id"}
OTHER = "other"

DayRow = tuple[str, Any, int]


def _pairs(exposures: ExposureTable, table: str) -> str:
    """The per-unit table with one row per scalar attribute of the unit's exposure (``k``,
    ``v``): a derived table, so engines that expand after their joins (Spark's lateral
    views) read it like the others."""
    x = exposures_as(exposures, "x")
    return (
        "(SELECT t.*, VERDICT_ATTR_KEY() AS k, VERDICT_ATTR_VALUE() AS v"
        f" FROM {table} AS t JOIN {x.table} AS x ON {x.id} = t.exposure_id"
        f" CROSS JOIN VERDICT_ATTRIBUTES({x.attributes}) AS attr WHERE VERDICT_ATTR_SCALAR())"
    )


def segment_values_sql(exposures: ExposureTable, table: str) -> str:
    """Per attribute key, its ``TOP_VALUES`` most common values with their counts, the
    key's number of distinct values and units (canonical SQL)."""
    return (
        "SELECT k, v, n, nd, nk FROM ("
        " SELECT k, v, n, ROW_NUMBER() OVER (PARTITION BY k ORDER BY n DESC, v) AS rn,"
        " COUNT(*) OVER (PARTITION BY k) AS nd, SUM(n) OVER (PARTITION BY k) AS nk FROM ("
        f"  SELECT p.k AS k, p.v AS v, COUNT(*) AS n FROM {_pairs(exposures, table)} AS p"
        "  GROUP BY p.k, p.v) AS g) AS r"
        f" WHERE rn <= {lit(TOP_VALUES)} ORDER BY nk DESC, k, rn"
    )


def segment_values(
    runner: Runner, exposures: ExposureTable, table: str, exclude: set[str]
) -> dict[str, list[str]]:
    """Attribute key -> its most common values (at most ``TOP_VALUES``), for the keys to
    break down by (at most ``MAX_KEYS``, most common first; identifiers left out)."""
    keys: dict[str, list[str]] = {}
    _, rows = runner.rows(segment_values_sql(exposures, table))
    for k, v, _n, distinct, _nk in rows:
        if k in exclude or k.lower() in IDENTIFIER_KEYS or int(distinct) > MAX_DISTINCT:
            continue
        if k not in keys and len(keys) >= MAX_KEYS:
            continue
        keys.setdefault(k, []).append(v)
    return keys


def segment_sums(
    runner: Runner,
    exposures: ExposureTable,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    top: dict[str, list[str]],
) -> list[Row]:
    """Rows of ((attribute, value, variant id), units, {metric: (stats, immature)})."""
    sql = segment_sums_sql(exposures, table, metrics, caps, shifts, top)
    if not sql:
        return []
    return variant_rows(runner, sql, metrics, shifts, groups=2)


def segment_sums_sql(
    exposures: ExposureTable,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    top: dict[str, list[str]],
) -> str:
    """The per-segment, per-variant sums (canonical SQL; "" without segments): per attribute
    key, its top values and the rest as ``other``."""
    pairs = [(k, v) for k, values in top.items() for v in values]
    if not pairs:
        return ""
    # The top values as a derived table, which every engine accepts in a join.
    top_sql = " UNION ALL ".join(f"SELECT {lit(k)} AS k, {lit(v)} AS v" for k, v in pairs)
    keys_sql = ", ".join(lit(k) for k in top)
    return variant_sums_sql(
        _pairs(exposures, table),
        metrics,
        caps,
        shifts,
        groups=["t.k", f"COALESCE(top.v, {lit(OTHER)})"],
        from_sql=f"LEFT JOIN ({top_sql}) AS top ON top.k = t.k AND top.v = t.v",
        where_sql=f"WHERE t.k IN ({keys_sql})",
    )


def exposure_days_sql(exposures: ExposureTable, table: str) -> str:
    """The analysed units per UTC day of first exposure (days since 1970-01-01) and variant
    (canonical SQL)."""
    x = exposures_as(exposures, "x")
    day = f"VERDICT_DAY({x.first_exposed_at})"
    return (
        f"SELECT {day} AS day, t.variant_id AS variant_id, COUNT(*) AS n_units"
        f" FROM {table} AS t JOIN {x.table} AS x ON {x.id} = t.exposure_id"
        f" GROUP BY {day}, t.variant_id"
    )


def exposure_days(runner: Runner, exposures: ExposureTable, table: str) -> list[DayRow]:
    """Rows of (day as an ISO date, variant id, analysed units), for the per-day sample ratio
    check."""
    _, rows = runner.rows(exposure_days_sql(exposures, table))
    epoch = dt.date(1970, 1, 1)
    return [
        ((epoch + dt.timedelta(days=int(day))).isoformat(), variant, int(n))
        for day, variant, n in rows
    ]
