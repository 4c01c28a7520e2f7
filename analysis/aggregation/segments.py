"""Segment breakdowns: per exposure attribute value (top values, the rest as "other")."""

from __future__ import annotations

from typing import Any

from django.db import connection

from .columns import MetricSpec
from .dialect import Dialect
from .query import Row, variant_sums
from .source import exposures_as

TOP_VALUES = 20
MAX_KEYS = 30
# A key with more distinct values than this is an identifier, not a segment.
MAX_DISTINCT = 1000
IDENTIFIER_KEYS = {"id", "unit_id", "user_id", "account_id", "device_id", "email", "session_id"}
OTHER = "other"


def _attr_source(d: Dialect) -> tuple[str, str, str, str]:
    x = exposures_as(d, "x")
    attr_from, key, value, scalar = d.attribute_pairs(x.attributes)
    join = f"JOIN {x.table} x ON {x.id} = t.exposure_id {attr_from}"
    return join, key, value, scalar


def segment_values(d: Dialect, table: str, exclude: set[str]) -> dict[str, list[str]]:
    """Attribute key -> its most common values (at most ``TOP_VALUES``), for the keys to
    break down by (at most ``MAX_KEYS``, most common first; identifiers left out)."""
    join, key, value, scalar = _attr_source(d)
    sql = (
        "SELECT k, v, n, nd, nk FROM ("
        " SELECT k, v, n, ROW_NUMBER() OVER (PARTITION BY k ORDER BY n DESC, v) AS rn,"
        " COUNT(*) OVER (PARTITION BY k) AS nd, SUM(n) OVER (PARTITION BY k) AS nk FROM ("
        f"  SELECT {key} AS k, {value} AS v, COUNT(*) AS n FROM {table} t {join}"
        f"  WHERE {scalar} GROUP BY 1, 2) g) r"
        " WHERE rn <= %(top)s ORDER BY nk DESC, k, rn"
    )
    keys: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"top": TOP_VALUES})
        for k, v, _n, distinct, _nk in cursor.fetchall():
            if k in exclude or k.lower() in IDENTIFIER_KEYS or int(distinct) > MAX_DISTINCT:
                continue
            if k not in keys and len(keys) >= MAX_KEYS:
                continue
            keys.setdefault(k, []).append(v)
    return keys


def segment_sums(
    d: Dialect,
    table: str,
    metrics: list[MetricSpec],
    caps: dict[str, float],
    shifts: dict[str, float],
    top: dict[str, list[str]],
) -> list[Row]:
    """Rows of ((attribute, value, variant id), units, {metric: (stats, immature)})."""
    pairs = [(k, v) for k, values in top.items() for v in values]
    if not pairs:
        return []
    join, key, value, scalar = _attr_source(d)
    params: dict[str, Any] = {}
    for i, (k, v) in enumerate(pairs):
        params[f"top_k_{i}"], params[f"top_v_{i}"] = k, v
    for i, k in enumerate(top):
        params[f"key_{i}"] = k
    # The top values as a derived table, which both databases accept in a join.
    top_sql = " UNION ALL ".join(
        f"SELECT %(top_k_{i})s AS k, %(top_v_{i})s AS v" for i in range(len(pairs))
    )
    keys_sql = ", ".join(f"%(key_{i})s" for i in range(len(top)))
    return variant_sums(
        d,
        table,
        metrics,
        caps,
        shifts,
        groups=[key, f"COALESCE(top.v, '{OTHER}')"],
        from_sql=f"{join} LEFT JOIN ({top_sql}) top ON top.k = {key} AND top.v = {value}",
        where_sql=f"WHERE {scalar} AND {key} IN ({keys_sql})",
        extra_params=params,
    )
