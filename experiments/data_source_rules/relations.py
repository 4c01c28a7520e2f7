"""A spark data source's relations: one SELECT or a table name, checked node by node against
allow lists (shapes, functions, tables, lake paths), run as the SQL generated from the checked
tree."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .errors import RuleViolation

# Relations -----------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


# Spark SQL functions a relation may call (lower case). Each only computes on its arguments:
# no file, network, JVM or catalog access, no user-defined functions.
ALLOWED_FUNCTIONS = frozenset(
    _words(
        """
    abs acos add_months aggregate any any_value approx_count_distinct approx_percentile array
    array_agg array_contains array_distinct array_except array_intersect array_join
    array_max array_min array_position array_remove array_size array_sort array_union
    arrays_zip ascii asin atan atan2 avg base64 bigint bit_length bool_and bool_or boolean
    bround btrim cardinality case cast cbrt ceil ceiling char char_length character_length
    chr coalesce collect_list collect_set concat concat_ws contains convert_timezone corr
    cos count count_if covar_pop covar_samp crc32 cume_dist current_date current_timestamp
    current_timezone date date_add date_diff date_format date_from_unix_date date_part
    date_sub date_trunc dateadd datediff datepart day dayofmonth dayofweek dayofyear decimal
    degrees dense_rank double element_at endswith every exists exp explode explode_outer
    expm1 extract filter first first_value flatten float floor forall format_number
    format_string from_json from_unixtime from_utc_timestamp get_json_object greatest
    grouping hash hex hour if ifnull ilike initcap inline inline_outer instr int isnan
    isnotnull isnull json_array_length json_object_keys json_tuple lag last last_day
    last_value lcase lead least left len length levenshtein like ln locate log log10 log1p
    log2 lower lpad ltrim make_date make_timestamp map map_concat map_contains_key
    map_entries map_filter map_from_arrays map_from_entries map_keys map_values max max_by
    md5 mean median min min_by minute mod monotonically_increasing_id month months_between
    named_struct nanvl negative next_day not now nth_value ntile nullif nvl nvl2 octet_length
    percent_rank percentile percentile_approx percentile_cont pi pmod posexplode
    posexplode_outer position positive pow power quarter radians rank regexp
    regexp_count regexp_extract regexp_extract_all regexp_instr regexp_like
    regexp_replace regexp_substr repeat replace reverse right rint rlike round row_number
    rpad rtrim schema_of_json second sequence sha sha1 sha2 shuffle sign signum sin size
    slice smallint sort_array split split_part sqrt startswith std stddev stddev_pop
    stddev_samp str_to_map string struct substr substring substring_index sum tan tinyint
    timestamp timestamp_micros timestamp_millis timestamp_seconds to_date to_json
    to_number to_timestamp to_timestamp_ltz to_timestamp_ntz to_unix_timestamp
    to_utc_timestamp transform transform_keys transform_values translate trim trunc
    try_add try_avg try_cast try_divide try_element_at try_multiply try_subtract try_sum
    try_to_number try_to_timestamp typeof ucase unbase64 unhex unix_date unix_micros
    unix_millis unix_seconds unix_timestamp upper var_pop var_samp variance weekday
    weekofyear when width_bucket xxhash64 year zip_with
    """
    )
)
# Formats a path-qualified table may name (format.`/lake/path`), always under a lake path.
LAKE_FORMATS = ("parquet", "delta", "orc", "avro", "csv", "json")
# First parts Spark reads as a file format rather than a database (db.table).
_FILE_PROVIDERS = frozenset(
    {
        *LAKE_FORMATS,
        "text",
        "binaryfile",
        "jdbc",
        "libsvm",
        "image",
        "kafka",
        "xml",
        "iceberg",
        "hudi",
        "hive",
        "noop",
        "console",
        "rate",
        "socket",
        "memory",
        "jsonl",
        "tsv",
    }
)
MAX_RELATION_LENGTH = 20_000
_IDENTIFIER = r"(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)"
_TABLE_NAME = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER}){{0,3}}")
_SQL_START = re.compile(
    r"^\s*\(*\s*(select|with|from|values|insert|update|delete|merge|create|"
    r"drop|alter|truncate|replace|grant|revoke|set|use|cache|refresh|"
    r"msck|analyze|load|overwrite|show|describe|table|transform|map|reduce|add|list)\b",
    re.IGNORECASE,
)
_SELECT_START = re.compile(r"^\s*(\(\s*)*(select|with)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALL = re.compile(r"`?([A-Za-z_][A-Za-z0-9_]*)`?\s*\(")
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.*)$")
_GLOB_OR_ESCAPE = re.compile(r"[*?\[\]{}\\%~]")
_SUBSTITUTION = "${"
_SUBSTITUTION_MESSAGE = (
    "${...} is Spark variable substitution, which reads the worker's environment; it is not "
    "allowed in a relation."
)


@dataclass(frozen=True)
class Relation:
    """A checked relation: ``sql`` is the Spark SQL generated from its checked parse tree
    (what runs), ``is_query`` whether it is a SELECT (else a table name)."""

    sql: str
    is_query: bool

    def from_item(self, alias: str = "src") -> str:
        """The relation as a FROM-clause item."""
        return f"({self.sql}) AS {alias}" if self.is_query else f"{self.sql} AS {alias}"


def relation_is_select(relation: str) -> bool:
    """Whether a relation is written as SQL (else it is a table name)."""
    return bool(_SQL_START.match(relation))


def lake_paths_parsed(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Lake path prefixes (a comma-separated text or a list) in comparable form; entries that
    are not absolute paths or URLs are left out."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        normal = _normal_path(str(item).strip())
        if normal and normal not in out:
            out.append(normal)
    return tuple(out)


def _normal_path(path: str) -> str | None:
    """``scheme:path`` with local paths as ``file:/...`` and no trailing slash; None for a
    relative path, a ``.``/``..`` segment, or glob, escape or home characters."""
    if not path or _GLOB_OR_ESCAPE.search(path) or any(ord(ch) < 32 for ch in path):
        return None
    match = _URI.match(path)
    scheme, rest = (match.group(1).lower(), match.group(2)) if match else ("file", path)
    if scheme == "file":
        rest = re.sub(r"^//(?:localhost)?(?=/)", "", rest)
        if not rest.startswith("/"):
            return None
    elif not rest.startswith("//"):
        return None
    segments = rest.split("/")
    if any(s in {".", ".."} for s in segments):
        return None
    return f"{scheme}:{rest.rstrip('/') or '/'}"


def _shown_path(prefix: str) -> str:
    return prefix.removeprefix("file:")


def _under(path: str, prefixes: Sequence[str]) -> bool:
    normal = _normal_path(path)
    if normal is None:
        return False
    return any(normal == p or normal.startswith(p.rstrip("/") + "/") for p in prefixes)


def _path_like(name: str) -> bool:
    return "/" in name or ":" in name or name.startswith((".", "~"))


def _function_name(node: Any) -> str:
    """The name Spark calls for a function node of the checked tree (as it will run)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    rendered = node.sql(dialect="spark", comments=False)
    match = _CALL.match(rendered)
    if match:
        return match.group(1)
    if isinstance(node, exp.Case):
        return "CASE"
    if rendered.upper().replace("_", "") == node.key.upper():
        return rendered  # a call written without parentheses: CURRENT_DATE
    return node.sql_name()


_ALLOWED_NODE_TYPES: frozenset[type] = frozenset(
    getattr(exp, name)
    for name in _words(
        """
        Select Union Intersect Except With CTE Subquery From Join Table TableAlias Identifier
        Column Star Alias Aliases Literal Boolean Null Paren Where Group Having Order Ordered
        Limit Offset Distinct Lateral Values Tuple DataType DataTypeParam Interval Var Window
        WindowSpec Bracket Dot Lambda PropertyEQ TableSample Pivot Cluster Distribute Sort
        Rollup Cube GroupingSets In Between Like ILike RegexpLike Is Not Neg And Or Xor EQ
        NEQ NullSafeEQ NullSafeNEQ GT GTE LT LTE Add Sub Mul Div IntDiv Mod DPipe BitwiseAnd
        BitwiseOr BitwiseXor BitwiseNot BitwiseLeftShift BitwiseRightShift Any All Filter
        WithinGroup IgnoreNulls RespectNulls Escape Exists Slice
        """
    )
)


def _node_problem(node: Any, lake_paths: Sequence[str]) -> str | None:
    if isinstance(node, exp.Table):
        return _table_problem(node, lake_paths)
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return (
            f"{node.sql(dialect='spark')[:100]} calls a function by a qualified name, which "
            "names a user-defined function; only Spark's built-in functions listed in "
            "docs/warehouse.md#security may be called."
        )
    if isinstance(node, exp.Var) and not _WORD.fullmatch(str(node.this)):
        return f"{str(node.this)[:100]!r} is not allowed in a relation."
    if type(node) in _ALLOWED_NODE_TYPES:
        return None
    if isinstance(node, exp.Func):
        name = _function_name(node)
        if name.lower() in ALLOWED_FUNCTIONS:
            return None
        return (
            f"The function {name.upper()} is not allowed in a relation: only Spark's built-in "
            "functions that compute on their arguments are (the list is in "
            "docs/warehouse.md#security). Functions that read files, call Java, reach other "
            "systems or are user-defined cannot be used."
        )
    kind = type(node).__name__
    text = node.sql(dialect="spark", comments=False)[:100]
    return f"{kind.upper()} ({text}) is not allowed in a relation: give a plain SELECT."


def _table_problem(table: Any, lake_paths: Sequence[str]) -> str | None:
    if not isinstance(table.this, exp.Identifier):
        if not isinstance(table.this, exp.Func):
            return "This table reference is not allowed."
        if table.args.get("db") or table.args.get("catalog"):
            return (
                f"{table.sql(dialect='spark')[:100]} calls a table function by a qualified "
                "name, which names a user-defined function; only Spark's built-in functions "
                "listed in docs/warehouse.md#security may be called."
            )
        # A built-in table-valued function (FROM explode(...)): checked as a function.
        return None
    parts = [str(part.name) for part in table.parts]
    shown = ".".join(f"`{p}`" if not _WORD.fullmatch(p) else p for p in parts)
    if any(ord(ch) < 32 for part in parts for ch in part):
        return f"{shown[:200]} is not a table name."
    is_path = len(parts) == 2 and (
        _path_like(parts[1]) or parts[0].lower() in _FILE_PROVIDERS or "." in parts[0]
    )
    if not is_path:
        if any(_path_like(p) for p in parts):
            return (
                f"{shown[:200]} looks like a file path; read files as format.`/path` "
                f"({', '.join(LAKE_FORMATS)}) under an allowed lake path."
            )
        return None
    provider, path = parts
    if not _path_like(path):
        return (
            f"Spark reads {shown[:200]} as the file at the relative path {path!r}, not as a "
            "table: a database named like a file format needs its catalog "
            f"(spark_catalog.{provider}.{path}); lake files are read as format.`/absolute/path`."
        )
    if provider.lower() not in LAKE_FORMATS:
        return (
            f"{shown[:200]} reads files with the {provider!r} format; a relation may read "
            f"only {', '.join(LAKE_FORMATS)} files under an allowed lake path."
        )
    if not _under(path, lake_paths):
        where = ", ".join(_shown_path(p) for p in lake_paths) or "none is configured"
        return (
            f"{shown[:200]} is outside the lake paths this server allows ({where}); an "
            "operator sets them with VERDICT_SPARK_ALLOWED_PATHS or VERDICT_LAKE_EXPORT_DIR. "
            "Paths must be absolute, without .., globs or escapes."
        )
    return None


def _tree_problem(tree: Any, lake_paths: Sequence[str]) -> str | None:
    for node in tree.walk():
        problem = _node_problem(node, lake_paths)
        if problem:
            return problem
    return None


def _parse(text: str) -> tuple[list[Any], str | None]:
    try:
        return [s for s in sqlglot.parse(text, read="spark") if s is not None], None
    except (SqlglotError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "it is nested too deeply"
        return [], f"This is not valid Spark SQL: {first[:300]}"


def _query_checked(text: str, lake_paths: Sequence[str]) -> str:
    statements, problem = _parse(text)
    if problem:
        raise RuleViolation(problem)
    if len(statements) != 1:
        raise RuleViolation(f"Give one SELECT statement, not {len(statements)} statements.")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = type(statement).__name__.upper()
        raise RuleViolation(f"Only a SELECT can be a relation; this is a {kind} statement.")
    if not _SELECT_START.match(text):
        raise RuleViolation(
            "A SQL relation is one SELECT (it may start with WITH); this is not one."
        )
    for node in statement.walk():
        if isinstance(node, exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.Create):
            raise RuleViolation(
                f"Only a SELECT can be a relation; it contains {type(node).__name__.upper()}."
            )
    problem = _tree_problem(statement, lake_paths)
    if problem:
        raise RuleViolation(problem)
    sql = statement.sql(dialect="spark", comments=False)
    if _SUBSTITUTION in sql:  # written with escapes ('$\{env:NAME}'), decoded by the parser
        raise RuleViolation(_SUBSTITUTION_MESSAGE)
    # What runs is this generated text: read it back and check it again.
    again, problem = _parse(sql)
    if problem or len(again) != 1 or _tree_problem(again[0], lake_paths):
        raise RuleViolation("This SQL could not be read unambiguously; write it more plainly.")
    return sql


def _table_checked(text: str, lake_paths: Sequence[str]) -> str:
    if not _TABLE_NAME.fullmatch(text):
        raise RuleViolation(
            f"{text[:100]!r} is neither a table name (db.table, catalog.db.table, "
            "parquet.`/path`) nor a SQL SELECT."
        )
    try:
        table = sqlglot.parse_one(text, into=exp.Table, read="spark")
    except SqlglotError:
        raise RuleViolation(f"{text[:100]!r} is not a table name.") from None
    problem = _table_problem(table, lake_paths)
    if problem:
        raise RuleViolation(problem)
    sql = table.sql(dialect="spark")
    if _SUBSTITUTION in sql:
        raise RuleViolation(_SUBSTITUTION_MESSAGE)
    return sql


def relation_checked(relation: Any, lake_paths: Sequence[str]) -> Relation:
    """The relation to run for ``relation`` (a table name or one SELECT) when it follows the
    rules; a ``RuleViolation`` naming the offending function, table or construct otherwise."""
    if not isinstance(relation, str) or not relation.strip():
        raise RuleViolation(
            "Give a table name (lake.events, parquet.`/data/lake/events`) or a SQL SELECT."
        )
    if len(relation) > MAX_RELATION_LENGTH:
        raise RuleViolation(f"At most {MAX_RELATION_LENGTH} characters.")
    if _SUBSTITUTION in relation:
        raise RuleViolation(_SUBSTITUTION_MESSAGE)
    text = relation.strip()
    prefixes = lake_paths_parsed(lake_paths)
    if relation_is_select(text):
        return Relation(_query_checked(text.rstrip(";").strip(), prefixes), is_query=True)
    return Relation(_table_checked(text, prefixes), is_query=False)


def relation_problem(relation: Any, lake_paths: Sequence[str]) -> str | None:
    """Why ``relation`` may not be read (None: it may)."""
    try:
        relation_checked(relation, lake_paths)
    except RuleViolation as exc:
        return str(exc)
    return None


def column_name_problem(physical: Any) -> str | None:
    """Why ``physical`` cannot name a column of a relation (None: it can)."""
    if (
        not isinstance(physical, str)
        or not physical.strip()
        or physical != physical.strip()
        or len(physical) > 128
        or any(ord(ch) < 32 for ch in physical)
    ):
        return "Give the physical column's name (at most 128 characters, no surrounding spaces)."
    if _SUBSTITUTION in physical:
        return "${...} is Spark variable substitution; it is not allowed in a column name."
    return None
