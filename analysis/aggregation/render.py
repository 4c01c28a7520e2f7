"""Canonical SQL -> one engine's SQL, with sqlglot.

The aggregation writes each query once, in sqlglot's own dialect, with ``VERDICT_*`` marker
functions where the engines differ (see ``dialect.py``). ``render`` parses the query, replaces
each marker by the engine's construct (built as sqlglot expressions, so no engine-specific
text is pasted into another engine's query) and generates the engine's SQL.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable

import sqlglot
from cachetools import cached
from sqlglot import exp

from core.caches import ENTRY_OVERHEAD, bytes_cache

from .dialect import VALUE_LIMIT, Dialect, micros

MARKER = "VERDICT_"


# A parsed template takes up to about 256 bytes per character of its SQL (measured with
# tracemalloc: 35 KB for the 138 characters of the clamp); the templates are this module's
# constants, with the seconds of a window shift as the one variable part.
TEMPLATE_BYTES_PER_CHAR = 256
_templates_lock = threading.Lock()
_templates = bytes_cache(
    "sql templates",
    holds="parsed engine-specific SQL templates of the aggregation",
    maxbytes=4 * 1024 * 1024,
    entry_size=lambda key, _tree: ENTRY_OVERHEAD + TEMPLATE_BYTES_PER_CHAR * len(key[0]),
    lock=_templates_lock,
)


@cached(_templates, lock=_templates_lock)
def _template(sql: str, read: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read=read)


def _native(d: Dialect, sql: str, **values: exp.Expression) -> exp.Expression:
    """An engine construct written in the engine's SQL, with ``:name`` placeholders."""

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder) and node.name in values:
            return values[node.name].copy()
        return node

    return _template(sql, d.name).transform(fill)


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call emitted verbatim (sqlglot does not reinterpret its arguments)."""
    return exp.Anonymous(this=name, expressions=list(args))


def _string(node: exp.Expression) -> str:
    if not (isinstance(node, exp.Literal) and node.is_string):
        raise ValueError(f"expected a string constant, got {node.sql()}")
    return node.this


def _int(node: exp.Expression) -> int:
    if isinstance(node, exp.Neg):
        return -_int(node.this)
    if not (isinstance(node, exp.Literal) and not node.is_string):
        raise ValueError(f"expected an integer constant, got {node.sql()}")
    return int(node.this)


_LIMIT = exp.Literal.number(f"{VALUE_LIMIT:g}")


# SQLite 3.38 and newer have unixepoch(), which reads a time's whole seconds about twice as
# fast as CAST(strftime('%s', ...) AS INTEGER) (the same integer, NULL for the same bad text);
# the aggregation converts each event's time a few dozen times a row, so it matters.
SQLITE_HAS_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38, 0)


def _sqlite_seconds(text: exp.Expression) -> exp.Expression:
    """Whole seconds since the epoch of a SQLite time text (``YYYY-MM-DD[ HH:MM:SS]``)."""
    # Typed as an integer, so sqlglot keeps the divisions of whole seconds integer divisions.
    if SQLITE_HAS_UNIXEPOCH:
        return exp.cast(_fn("unixepoch", text), "INTEGER")
    return exp.cast(_fn("strftime", exp.Literal.string("%s"), text), "INTEGER")


def _ts(d: Dialect, column: exp.Expression) -> exp.Expression:
    if d.postgres:
        return column
    if d.spark:
        return _fn("UNIX_MICROS", column)
    whole = _sqlite_seconds(_fn("substr", column, _n(1), _n(19)))
    fraction = _fn("substr", column.copy(), _n(21), _n(6))
    return exp.Paren(
        this=exp.Add(
            this=exp.Mul(this=whole, expression=_n(1_000_000)),
            expression=exp.cast(fraction, "INTEGER"),
        )
    )


def _n(value: int) -> exp.Literal:
    return exp.Literal.number(value)


def _shift(d: Dialect, column: exp.Expression, seconds: exp.Expression) -> exp.Expression:
    n = _int(seconds)
    if d.postgres:
        if n == 0:
            return column
        return _native(d, f"(:c + INTERVAL '{n} seconds')", c=column)
    if n == 0:
        return _ts(d, column)
    return exp.Paren(this=exp.Add(this=_ts(d, column), expression=_n(n * 1_000_000)))


def _time(d: Dialect, value: exp.Expression) -> exp.Expression:
    when = dt.datetime.fromisoformat(_string(value))
    if d.postgres:
        return exp.cast(exp.Literal.string(when.isoformat()), "TIMESTAMPTZ")
    return _n(micros(when))


def _day(d: Dialect, column: exp.Expression) -> exp.Expression:
    if d.postgres:
        return _native(d, "CAST(FLOOR(EXTRACT(EPOCH FROM :c) / 86400) AS BIGINT)", c=column)
    if d.spark:
        return _native(d, "CAST(FLOOR(UNIX_MICROS(:c) / 86400000000) AS BIGINT)", c=column)
    # SQLite: the text's date at midnight UTC, in whole seconds, divided as integers.
    midnight = _sqlite_seconds(_fn("substr", column, _n(1), _n(10)))
    return exp.Paren(this=exp.Div(this=midnight, expression=_n(86_400)))


def _clamp(d: Dialect, value: exp.Expression) -> exp.Expression:
    if d.sqlite:
        # MIN/MAX with several arguments are NULL when one is; + 0.0 makes integers REAL,
        # whose sums cannot raise "integer overflow".
        real = exp.Add(this=value, expression=exp.Literal.number("0.0"))
        return _fn("MIN", _fn("MAX", real, exp.Neg(this=_LIMIT.copy())), _LIMIT.copy())
    # PostgreSQL and Spark: NaN and infinities become the bound.
    return _native(
        d,
        "(CASE WHEN :v > CAST(1e100 AS DOUBLE) THEN CAST(1e100 AS DOUBLE)"
        " WHEN :v < -CAST(1e100 AS DOUBLE) THEN -CAST(1e100 AS DOUBLE) ELSE :v END)",
        v=value,
    )


def _json_number(d: Dialect, properties: exp.Expression, key: exp.Expression) -> exp.Expression:
    name = _string(key)
    if d.postgres:
        # Through numeric (the JSON number as stored): one beyond the float range is
        # clamped, one too small for a double (below 1e-300) counts as 0, never an error.
        return _native(
            d,
            "CASE WHEN :t = 'number' THEN (CASE WHEN ABS(CAST(:j AS NUMERIC)) < 1e-300 THEN 0"
            " ELSE CAST(LEAST(GREATEST(CAST(:j AS NUMERIC), -1e100), 1e100) AS DOUBLE PRECISION)"
            " END) END",
            t=_fn("jsonb_typeof", _fn("jsonb_extract_path", properties, key)),
            j=_fn("jsonb_extract_path", properties.copy(), key.copy()),
        )
    if d.sqlite:
        path = exp.Literal.string(f'$."{name}"')
        return _native(
            d,
            "CASE WHEN :t IN ('integer', 'real') THEN :j END",
            t=_fn("json_type", properties, path),
            j=_clamp(d, _fn("json_extract", properties.copy(), path.copy())),
        )
    path = exp.Literal.string(f'$["{name}"]')
    node = _fn("VARIANT_GET", _fn("TRY_PARSE_JSON", properties), path)
    return _native(
        d,
        "CASE WHEN :s IN ('BIGINT', 'DOUBLE', 'FLOAT') OR :s LIKE 'DECIMAL%'"
        " THEN LEAST(GREATEST(:v, -CAST(1e100 AS DOUBLE)), CAST(1e100 AS DOUBLE)) END",
        s=_fn("SCHEMA_OF_VARIANT", node),
        v=_fn(
            "TRY_VARIANT_GET", node.copy(), exp.Literal.string("$"), exp.Literal.string("double")
        ),
    )


def _json_type(d: Dialect, properties: exp.Expression, key: exp.Expression) -> exp.Expression:
    name = _string(key)
    if d.postgres:
        return _native(
            d,
            "CASE WHEN :t = 'boolean' THEN :x ELSE :t END",
            t=_fn("jsonb_typeof", _fn("jsonb_extract_path", properties, key)),
            x=_fn("jsonb_extract_path_text", properties.copy(), key.copy()),
        )
    if d.sqlite:
        path = exp.Literal.string(f'$."{name}"')
        return _native(
            d,
            "CASE :t WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' WHEN 'text'"
            " THEN 'string' ELSE :t END",
            t=_fn("json_type", properties, path),
        )
    node = _fn("VARIANT_GET", _fn("TRY_PARSE_JSON", properties), exp.Literal.string(f'$["{name}"]'))
    return _native(
        d,
        "CASE WHEN :s = 'STRING' THEN 'string' WHEN :s = 'BOOLEAN' THEN :b"
        " WHEN :s IN ('BIGINT', 'DOUBLE', 'FLOAT') OR :s LIKE 'DECIMAL%' THEN 'number'"
        " WHEN :s LIKE 'OBJECT%' THEN 'object' WHEN :s LIKE 'ARRAY%' THEN 'array'"
        " WHEN :s = 'VOID' THEN 'null' END",
        s=_fn("SCHEMA_OF_VARIANT", node),
        b=_fn("VARIANT_GET", node.copy(), exp.Literal.string("$"), exp.Literal.string("string")),
    )


def _json_text(d: Dialect, properties: exp.Expression, key: exp.Expression) -> exp.Expression:
    name = _string(key)
    if d.postgres:
        return _native(
            d,
            "CASE WHEN :t = 'string' THEN :x END",
            t=_fn("jsonb_typeof", _fn("jsonb_extract_path", properties, key)),
            x=_fn("jsonb_extract_path_text", properties.copy(), key.copy()),
        )
    if d.sqlite:
        path = exp.Literal.string(f'$."{name}"')
        return _native(
            d,
            "CASE WHEN :t = 'text' THEN :x END",
            t=_fn("json_type", properties, path),
            x=_fn("json_extract", properties.copy(), path.copy()),
        )
    node = _fn("VARIANT_GET", _fn("TRY_PARSE_JSON", properties), exp.Literal.string(f'$["{name}"]'))
    return _native(
        d,
        "CASE WHEN :s = 'STRING' THEN :x END",
        s=_fn("SCHEMA_OF_VARIANT", node),
        x=_fn("VARIANT_GET", node.copy(), exp.Literal.string("$"), exp.Literal.string("string")),
    )


def _percentile(d: Dialect, column: exp.Expression, fraction: exp.Expression) -> exp.Expression:
    if d.spark:
        # Spark's exact percentile (linear interpolation), not percentile_approx.
        return _fn("PERCENTILE", column, fraction)
    return _native(d, "PERCENTILE_CONT(:p) WITHIN GROUP (ORDER BY :c)", p=fraction, c=column)


_ATTR_KEY = {
    "postgres": "attr.key",
    "sqlite": "attr.key",
    "spark": "attr.key",
}
_ATTR_VALUE = {
    "postgres": "(attr.value #>> '{}')",
    "sqlite": "(CASE attr.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
    " ELSE CAST(attr.value AS TEXT) END)",
    "spark": "VARIANT_GET(attr.value, '$', 'string')",
}
_ATTR_SCALAR = {
    "postgres": "jsonb_typeof(attr.value) IN ('string', 'number', 'boolean')",
    "sqlite": "attr.type IN ('text', 'integer', 'real', 'true', 'false')",
    "spark": "(SCHEMA_OF_VARIANT(attr.value) IN ('STRING', 'BIGINT', 'DOUBLE', 'FLOAT',"
    " 'BOOLEAN') OR SCHEMA_OF_VARIANT(attr.value) LIKE 'DECIMAL%')",
}


def _attr(table: dict[str, str]) -> Callable[[Dialect], exp.Expression]:
    return lambda d: _template(table[d.name], d.name).copy()


_MARKERS: dict[str, Callable[..., exp.Expression]] = {
    "VERDICT_TS": _ts,
    "VERDICT_SHIFT": _shift,
    "VERDICT_TIME": _time,
    "VERDICT_CLAMP": _clamp,
    "VERDICT_DAY": _day,
    "VERDICT_PERCENTILE": _percentile,
    "VERDICT_JSON_NUMBER": _json_number,
    "VERDICT_JSON_TYPE": _json_type,
    "VERDICT_JSON_TEXT": _json_text,
    "VERDICT_ATTR_KEY": _attr(_ATTR_KEY),
    "VERDICT_ATTR_VALUE": _attr(_ATTR_VALUE),
    "VERDICT_ATTR_SCALAR": _attr(_ATTR_SCALAR),
}


def _attributes_join(join: exp.Expression) -> exp.Expression | None:
    """The JSON column of a ``CROSS JOIN VERDICT_ATTRIBUTES(column) AS attr``, else None."""
    table = join.this
    if (
        isinstance(table, exp.Table)
        and isinstance(table.this, exp.Anonymous)
        and str(table.this.this).upper() == "VERDICT_ATTRIBUTES"
    ):
        return table.this.expressions[0]
    return None


def _lower_select(d: Dialect, select: exp.Select) -> None:
    joins = select.args.get("joins") or []
    for join in list(joins):
        column = _attributes_join(join)
        if column is None:
            continue
        if d.postgres:
            new = _native(d, "SELECT 1 FROM t CROSS JOIN LATERAL jsonb_each(:c) AS attr", c=column)
            join.replace(new.args["joins"][0])
        elif d.sqlite:
            new = _native(d, "SELECT 1 FROM t CROSS JOIN json_each(:c) AS attr", c=column)
            join.replace(new.args["joins"][0])
        else:
            # Spark: a lateral view over the object as a map of variants (after the joins).
            joins.remove(join)
            select.set("joins", joins or None)
            new = _native(
                d,
                "SELECT 1 FROM t LATERAL VIEW EXPLODE(FROM_JSON(:c, 'map<string,variant>'))"
                " attr AS key, value",
                c=column,
            )
            select.append("laterals", new.args["laterals"][0])


def _lower(d: Dialect, node: exp.Expression) -> exp.Expression:
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _lower(d, value))
        elif isinstance(value, list):
            node.set(key, [_lower(d, v) if isinstance(v, exp.Expression) else v for v in value])
    if isinstance(node, exp.Select):
        _lower_select(d, node)
    if isinstance(node, exp.Anonymous):
        name = str(node.this).upper()
        if name.startswith(MARKER) and name != "VERDICT_ATTRIBUTES":
            try:
                build = _MARKERS[name]
            except KeyError:
                raise ValueError(f"unknown SQL marker {name}") from None
            return build(d, *node.expressions)
    return node


def expression(sql: str, d: Dialect) -> exp.Expression:
    """The canonical ``sql`` as a sqlglot tree of engine ``d``'s constructs."""
    return _lower(d, sqlglot.parse_one(sql))


def render(sql: str, d: Dialect, *, pretty: bool = False) -> str:
    """The canonical ``sql`` in engine ``d``'s dialect."""
    return expression(sql, d).sql(dialect=d.name, pretty=pretty)
