"""SQL fragments that differ between PostgreSQL and SQLite.

Time arithmetic: on PostgreSQL timestamps are compared directly and shifted with intervals; on
SQLite (where Django stores UTC text ``YYYY-MM-DD HH:MM:SS[.ffffff]``) both sides become
integer microseconds since the epoch (whole seconds from ``strftime``, which would round
fractions to milliseconds, plus the six fraction digits), so boundaries are exact on both.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Event values count at most this far from 0: far beyond any real metric, and small enough
# that no per-unit or per-variant sum (or sum of squares) of such values can overflow a double.
VALUE_LIMIT = 1e100

Names = TypeVar("Names")


@dataclass(frozen=True)
class Fragment:
    """A piece of SQL and its named parameters (``%(name)s`` placeholders)."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


def merge_params(*groups: dict[str, Any]) -> dict[str, Any]:
    """One parameter dict from several; a name used twice must mean the same value."""
    out: dict[str, Any] = {}
    for group in groups:
        for name, value in group.items():
            if name in out and out[name] != value:
                raise ValueError(f"query parameter {name!r} has two values")
            out[name] = value
    return out


@dataclass(frozen=True)
class Dialect:
    vendor: str

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    # -- names ----------------------------------------------------------------------------
    @staticmethod
    def quote(name: str) -> str:
        """An identifier quoted for SQL (the same on PostgreSQL and SQLite)."""
        return '"' + name.replace('"', '""') + '"'

    def qualify(self, names: Names, alias: str) -> Names:
        """A copy of a table-names dataclass (see ``assignment.tables``) ready for SQL: its
        ``table`` quoted, every other field a column of ``alias`` (``alias."column"``)."""
        values = {
            f.name: self.quote(getattr(names, f.name))
            if f.name == "table"
            else f"{alias}.{self.quote(getattr(names, f.name))}"
            for f in fields(names)  # type: ignore[arg-type]
        }
        return type(names)(**values)

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

    def clamp(self, expr: str) -> str:
        """A float value bounded to [-VALUE_LIMIT, VALUE_LIMIT] (NULL stays NULL; on
        PostgreSQL NaN and infinities become the bound), so no sum of them can overflow."""
        if self.postgres:
            limit = f"CAST({VALUE_LIMIT:g} AS double precision)"
            return (
                f"(CASE WHEN {expr} > {limit} THEN {limit}"
                f" WHEN {expr} < -{limit} THEN -{limit} ELSE {expr} END)"
            )
        # SQLite: MIN/MAX with several arguments are NULL when one is; + 0.0 makes integers
        # REAL, whose sums cannot raise "integer overflow".
        return f"MIN(MAX({expr} + 0.0, -{VALUE_LIMIT:g}), {VALUE_LIMIT:g})"

    def event_value(
        self, value_field: str | None, *, value: str, properties: str, param: str
    ) -> Fragment:
        """The number an event contributes: its ``value_field`` property when that is a
        number, else the event's ``value`` column; with no value field, 1 (the metric counts
        events). ``value`` and ``properties`` are the event's columns; ``param`` names the
        query parameter that carries the property. Values beyond +-``VALUE_LIMIT`` (and a
        JSON number beyond the float range) count as the limit.
        """
        if not value_field:
            return Fragment("1")
        if value_field == "value" or '"' in value_field or "\\" in value_field:
            return Fragment(self.clamp(value))
        if self.postgres:
            # Through numeric (the JSON number as stored): one beyond the float range is
            # clamped, one too small for a double (below 1e-300) counts as 0, never an error.
            limit = f"{VALUE_LIMIT:g}"
            number = f"CAST({properties} -> %({param})s AS numeric)"
            return Fragment(
                f"COALESCE(CASE WHEN jsonb_typeof({properties} -> %({param})s) = 'number'"
                f" THEN (CASE WHEN ABS({number}) < 1e-300 THEN 0 ELSE CAST(LEAST(GREATEST("
                f"{number}, -{limit}), {limit}) AS double precision) END) END,"
                f" {self.clamp(value)})",
                {param: value_field},
            )
        return Fragment(
            self.clamp(
                f"COALESCE(CASE WHEN json_type({properties}, %({param})s) IN ('integer', 'real')"
                f" THEN json_extract({properties}, %({param})s) END, {value})"
            ),
            {param: f'$."{value_field}"'},
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
                f"percentile_cont(%(p_{col})s) WITHIN GROUP (ORDER BY {col})" for col in wanted
            )
            params = {f"p_{col}": pct / 100.0 for col, pct in wanted.items()}
            cursor.execute(f"SELECT {parts} FROM {table}", params)
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
            cursor.execute(
                f"SELECT {col} FROM {table} ORDER BY {col} LIMIT 2 OFFSET %(low)s", {"low": low}
            )
            values = [float(r[0]) for r in cursor.fetchall()]
            high_value = values[1] if len(values) > 1 else values[0]
            out[col] = values[0] + (high_value - values[0]) * (pos - low)
        return out
