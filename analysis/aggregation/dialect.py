"""SQL fragments that differ between PostgreSQL and SQLite.

Time arithmetic: on PostgreSQL timestamps are compared directly and shifted with intervals; on
SQLite (where Django stores UTC text ``YYYY-MM-DD HH:MM:SS[.ffffff]``) both sides become
integer microseconds since the epoch (whole seconds from ``strftime``, which would round
fractions to milliseconds, plus the six fraction digits), so boundaries are exact on both.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Dialect:
    vendor: str

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    # -- time -----------------------------------------------------------------------------
    def ts(self, column: str) -> str:
        """An expression comparable with ``shift`` and ``time_param`` values."""
        if self.postgres:
            return column
        return (
            f"(CAST(strftime('%%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21, 6) AS INTEGER))"
        )

    def shift(self, column: str, seconds: int) -> str:
        """``column`` moved by a whole number of seconds, comparable with ``ts``."""
        seconds = int(seconds)
        if self.postgres:
            if seconds == 0:
                return column
            return f"({column} + INTERVAL '{seconds} seconds')"
        return f"({self.ts(column)} + {seconds * 1_000_000})"

    def time_param(self, value: dt.datetime) -> Any:
        """A query parameter comparable with ``ts``."""
        if self.postgres:
            return value
        return (value - _EPOCH) // dt.timedelta(microseconds=1)

    # -- numbers --------------------------------------------------------------------------
    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.postgres else f"MIN({a}, {b})"

    def event_value(self, value_field: str | None) -> tuple[str, list[Any]]:
        """The number an event contributes: its ``value_field`` property when that is a
        number, else the event's ``value``; with no value field, 1 (the metric counts events).
        """
        if not value_field:
            return "1", []
        if value_field == "value" or '"' in value_field or "\\" in value_field:
            return "ev.value", []
        if self.postgres:
            return (
                "COALESCE(CASE WHEN jsonb_typeof(ev.properties -> %s) = 'number'"
                " THEN (ev.properties ->> %s)::double precision END, ev.value)",
                [value_field, value_field],
            )
        path = f'$."{value_field}"'
        return (
            "COALESCE(CASE WHEN json_type(ev.properties, %s) IN ('integer', 'real')"
            " THEN json_extract(ev.properties, %s) END, ev.value)",
            [path, path],
        )

    # -- JSON attributes ------------------------------------------------------------------
    def attribute_pairs(self, column: str) -> tuple[str, str, str, str]:
        """(FROM-clause addition, key expression, text value expression, scalar filter) for
        expanding a JSON object column into one row per scalar attribute."""
        if self.postgres:
            return (
                f"CROSS JOIN LATERAL jsonb_each({column}) AS attr",
                "attr.key",
                "(attr.value #>> '{}')",
                "jsonb_typeof(attr.value) IN ('string', 'number', 'boolean')",
            )
        return (
            f", json_each({column}) AS attr",
            "attr.key",
            "(CASE attr.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
            " ELSE CAST(attr.value AS TEXT) END)",
            "attr.type IN ('text', 'integer', 'real', 'true', 'false')",
        )

    # -- percentiles ----------------------------------------------------------------------
    def percentiles(self, cursor: Any, table: str, wanted: dict[str, float]) -> dict[str, float]:
        """Per column, the percentile (0-100) of its values by linear interpolation (the same
        definition as ``percentile_cont`` and numpy's default)."""
        if not wanted:
            return {}
        if self.postgres:
            parts = ", ".join(
                f"percentile_cont(%s) WITHIN GROUP (ORDER BY {col})" for col in wanted
            )
            cursor.execute(f"SELECT {parts} FROM {table}", [p / 100.0 for p in wanted.values()])
            row = cursor.fetchone()
            return {col: float(v) for col, v in zip(wanted, row, strict=True) if v is not None}
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        n = cursor.fetchone()[0]
        out: dict[str, float] = {}
        if not n:
            return out
        for col, pct in wanted.items():
            pos = (n - 1) * pct / 100.0
            low = math.floor(pos)
            cursor.execute(f"SELECT {col} FROM {table} ORDER BY {col} LIMIT 2 OFFSET %s", [low])
            values = [float(r[0]) for r in cursor.fetchall()]
            high_value = values[1] if len(values) > 1 else values[0]
            out[col] = values[0] + (high_value - values[0]) * (pos - low)
        return out
