"""The SQL dialects the aggregation is emitted for, and the few constructs that differ.

The aggregation's queries are written once, as canonical SQL (sqlglot's own dialect), and
emitted for each engine by ``render.py``: sqlglot transpiles the common SQL, and the
constructs that differ between engines are written as ``VERDICT_*`` marker functions that
``render.py`` replaces by each engine's form:

``VERDICT_TS(column)``
    a time comparable with ``VERDICT_SHIFT`` and ``VERDICT_TIME``. PostgreSQL compares
    timestamps directly (and shifts them with intervals); SQLite (where Django stores UTC
    text ``YYYY-MM-DD HH:MM:SS[.ffffff]``) and Spark compare integer microseconds since the
    epoch, so boundaries are exact everywhere.
``VERDICT_SHIFT(column, seconds)``, ``VERDICT_TIME('iso time')``
    a column moved by whole seconds; a constant time.
``VERDICT_DAY(column)``
    the UTC day of a time column, as whole days since 1970-01-01.
``VERDICT_CLAMP(value)``
    a float bounded to [-VALUE_LIMIT, VALUE_LIMIT] (NULL stays NULL).
``VERDICT_JSON_NUMBER(properties, 'key')``
    the JSON object's ``key`` when it is a number (bounded like ``VERDICT_CLAMP``), else NULL.
``VERDICT_JSON_TYPE(properties, 'key')``, ``VERDICT_JSON_TEXT(properties, 'key')``
    the JSON type of the object's ``key`` as one of ``string``, ``number``, ``true``,
    ``false``, ``null``, ``object``, ``array`` (NULL when the key is absent); its text when it
    is a string, else NULL. Event filters (``filters.py``) are built from these.
``CROSS JOIN VERDICT_ATTRIBUTES(attributes) AS attr`` with ``VERDICT_ATTR_KEY()``,
``VERDICT_ATTR_VALUE()``, ``VERDICT_ATTR_SCALAR()``
    one row per attribute of a JSON object (jsonb_each, json_each, or a Spark lateral view
    over a map of variants), its key, its text value and whether it is a scalar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlglot import exp

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Event values count at most this far from 0: far beyond any real metric, and small enough
# that no per-unit or per-variant sum (or sum of squares) of such values can overflow a double.
VALUE_LIMIT = 1e100

# Django's connection.vendor (or our own name) -> sqlglot's dialect name.
SQLGLOT_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "spark": "spark"}

Names = TypeVar("Names")


@dataclass(frozen=True)
class Dialect:
    """One engine the aggregation runs on: ``postgresql``, ``sqlite`` or ``spark``."""

    vendor: str

    def __post_init__(self) -> None:
        if self.vendor not in SQLGLOT_DIALECTS:
            raise ValueError(f"the aggregation does not run on {self.vendor!r}")

    @property
    def name(self) -> str:
        """sqlglot's name of the dialect."""
        return SQLGLOT_DIALECTS[self.vendor]

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    @property
    def sqlite(self) -> bool:
        return self.vendor == "sqlite"

    @property
    def spark(self) -> bool:
        return self.vendor == "spark"

    # -- values read back -----------------------------------------------------------------
    def time_from_db(self, value: Any) -> dt.datetime | None:
        """A ``VERDICT_TS`` value read back from the engine, as an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return _EPOCH + dt.timedelta(microseconds=int(value))


def quote(name: str) -> str:
    """An identifier quoted in canonical SQL (emitted with each dialect's quotes)."""
    return '"' + name.replace('"', '""') + '"'


def qualify(names: Names, alias: str) -> Names:
    """A copy of a table-names dataclass (see ``assignment.tables``) ready for SQL: its
    ``table`` quoted, every other field a column of ``alias`` (``alias."column"``)."""
    values = {
        f.name: quote(getattr(names, f.name))
        if f.name == "table"
        else f"{alias}.{quote(getattr(names, f.name))}"
        for f in fields(names)  # type: ignore[arg-type]
    }
    return type(names)(**values)


def lit(value: Any) -> str:
    """A constant in canonical SQL: strings quoted, floats as exact doubles, datetimes as
    ``VERDICT_TIME`` markers."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("times in the aggregation are aware")
        return f"VERDICT_TIME({lit(value.astimezone(dt.UTC).isoformat())})"
    if isinstance(value, bool) or value is None:
        return exp.convert(value).sql()
    if isinstance(value, float):
        return f"CAST({value!r} AS DOUBLE)"
    if isinstance(value, int | str):
        return exp.convert(value).sql()
    raise TypeError(f"no SQL constant for {type(value).__name__}")


def micros(value: dt.datetime) -> int:
    """Microseconds since the epoch (what ``VERDICT_TS`` compares on SQLite and Spark)."""
    return (value - _EPOCH) // dt.timedelta(microseconds=1)


def event_value(value_field: str | None, *, value: str, properties: str) -> str:
    """The number an event contributes (canonical SQL): its ``value_field`` property when that
    is a JSON number, else the event's ``value`` column; with no value field, 1 (the metric
    counts events). ``value`` and ``properties`` are the event's columns. Values beyond
    +-``VALUE_LIMIT`` (and a JSON number beyond the float range) count as the limit."""
    if not value_field:
        return "1"
    if value_field == "value" or '"' in value_field or "\\" in value_field:
        return f"VERDICT_CLAMP({value})"
    number = f"VERDICT_JSON_NUMBER({properties}, {lit(value_field)})"
    return f"COALESCE({number}, VERDICT_CLAMP({value}))"
