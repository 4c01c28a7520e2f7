"""What a ``spark`` data source may do on the worker that runs it (docs/warehouse.md#security).

One home for the rules, used where a definition is saved (``experiments.services.data_sources``)
and where it runs (``analysis.warehouse``: refresh, session, relations), so a source saved
before a rule existed, or under another setting, is refused when it would run:

- **relations**: a table name or one SQL ``SELECT``, parsed with sqlglot (Spark dialect) and
  read node by node against allow lists: query shapes (joins, CTEs, subqueries, unions,
  windows), ``ALLOWED_FUNCTIONS``, named tables, and path-qualified tables
  (``parquet.`/data/lake/events```) only in a ``LAKE_FORMATS`` format under an allowed lake
  path. What runs on Spark is the SQL generated from the checked tree (``Relation.sql``), not
  the text as typed, so Spark executes exactly what was checked;
- **session options**: only ``SESSION_OPTIONS`` and ``SESSION_OPTION_PATTERNS`` (tuning and
  object-storage credentials); ``ENFORCED_SETTINGS`` are applied after them;
- **session URLs**: the accepted forms, connecting only to hosts the operator lists
  (``VERDICT_SPARK_ALLOWED_HOSTS``; empty: local mode only);
- **segments**: the attribute keys a source declares (``segments``); other attribute values
  are never read out of Spark.

Pure: no Django; the settings are passed in (``allowed_hosts``, ``lake_paths``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

Errors = dict[str, list[str]]


class RuleViolation(ValueError):
    """A data source breaks one of these rules; the message says which (never a secret)."""


# Session URLs --------------------------------------------------------------------------------

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})"
_PORT = r"[0-9]{1,5}"
_LOCAL_FORMS = (
    re.compile(r"local"),
    re.compile(r"local\[(?:\*|[1-9][0-9]{0,3})\]"),
)
_MASTER_FORM = re.compile(rf"spark://{_HOST}:{_PORT}(?:,{_HOST}:{_PORT})*")
_CONNECT_FORM = re.compile(rf"sc://{_HOST}:{_PORT}(?:/(?:;[A-Za-z0-9_.-]+=[^;\s]*)*)?")
_YARN = "yarn"
SESSION_URL_HELP = (
    "local, local[N], local[*], spark://host:port, sc://host:port[/;param=value] "
    "(Spark Connect) or yarn"
)
# Spark Connect URL parameters whose values are credentials (masked when shown back).
_SECRET_PARAM = re.compile(r"token|secret|password|passwd|credential|key", re.IGNORECASE)
URL_PARAM = re.compile(r";([A-Za-z0-9_.-]+)=([^;]*)")
MASK = "********"


def session_kind(url: str) -> str:
    """``local``, ``master`` (``spark://``, ``yarn``) or ``connect`` (``sc://``); a
    ``RuleViolation`` (that does not repeat the URL) for any other text."""
    url = url if isinstance(url, str) else ""
    if any(ch.isspace() for ch in url):
        kind = ""
    elif any(form.fullmatch(url) for form in _LOCAL_FORMS):
        kind = "local"
    elif _MASTER_FORM.fullmatch(url) or url == _YARN:
        kind = "master"
    elif _CONNECT_FORM.fullmatch(url):
        kind = "connect"
    else:
        kind = ""
    if not kind or not all(0 < port < 65536 for _, port in _host_ports(url)):
        raise RuleViolation(f"session URL must be one of: {SESSION_URL_HELP}")
    return kind


def session_url_valid(url: str) -> bool:
    """Whether ``url`` is one of the session URL forms Verdict accepts."""
    try:
        session_kind(url)
    except RuleViolation:
        return False
    return True


def _host_ports(url: str) -> list[tuple[str, int]]:
    if url.startswith("spark://"):
        where = url[len("spark://") :].split(",")
    elif url.startswith("sc://"):
        where = [url[len("sc://") :].split("/", 1)[0]]
    else:
        return []
    out = []
    for item in where:
        host, _, port = item.rpartition(":")
        out.append((host.lower(), int(port) if port.isdigit() else 0))
    return out


def session_url_masked(url: str) -> str:
    """The session URL with the values of credential parameters (``;token=...``) masked."""

    def mask(match: re.Match[str]) -> str:
        name = match.group(1)
        return f";{name}={MASK}" if _SECRET_PARAM.search(name) else match.group(0)

    return URL_PARAM.sub(mask, url)


def allowed_hosts_parsed(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """The operator's host allow list (``VERDICT_SPARK_ALLOWED_HOSTS``: a comma-separated
    text or a list) as lower-case entries: ``host``, ``host:port``, ``*.domain`` or ``yarn``."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip().lower() for item in items if str(item).strip())


def _host_allowed(host: str, port: int, allowed: Sequence[str]) -> bool:
    for entry in allowed:
        name, _, only_port = entry.partition(":")
        if only_port and only_port != str(port):
            continue
        if name == host or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


def session_url_problem(url: Any, allowed_hosts: Sequence[str]) -> str | None:
    """Why a session may not be opened with ``url`` here (None: it may): not one of the
    accepted forms, or a host the operator has not allowed."""
    try:
        kind = session_kind(url)
    except RuleViolation:
        return f"Not a session URL. Use one of: {SESSION_URL_HELP}."
    if kind == "local":
        return None
    allowed = allowed_hosts_parsed(allowed_hosts)
    which = f"this server allows {', '.join(allowed)}" if allowed else "this server allows none"
    if url == _YARN:
        if _YARN in allowed:
            return None
        return (
            f'Spark sessions may not use YARN here: {which} (an operator adds "yarn" to '
            "VERDICT_SPARK_ALLOWED_HOSTS to allow it). Use local[*] meanwhile."
        )
    for host, port in _host_ports(url):
        if not _host_allowed(host, port, allowed):
            return (
                f"Spark sessions may not connect to {host}:{port}: {which} (an operator "
                "lists the hosts sessions may reach in VERDICT_SPARK_ALLOWED_HOSTS; empty "
                "means local mode only)."
            )
    return None


# Session options -----------------------------------------------------------------------------

# Spark settings a data source may set: tuning, and credentials for the lake's object storage.
# Anything else (extra jars or classes, JVM options, extensions, catalogs, file systems,
# endpoints, variable substitution, ...) belongs to the operator's Spark configuration.
SESSION_OPTIONS: dict[str, str] = {
    "spark.sql.shuffle.partitions": "shuffle partitions of the aggregation",
    "spark.sql.session.timeZone": "session time zone (Verdict sets UTC)",
    "spark.sql.adaptive.enabled": "adaptive query execution",
    "spark.sql.adaptive.coalescePartitions.enabled": "coalescing small shuffle partitions",
    "spark.sql.autoBroadcastJoinThreshold": "largest table broadcast in a join",
    "spark.sql.files.maxPartitionBytes": "bytes per partition when reading files",
    "spark.sql.codegen.wholeStage": "whole-stage code generation",
    "spark.sql.ansi.enabled": "ANSI SQL mode",
    "spark.sql.caseSensitive": "case-sensitive column names",
    "spark.sql.parquet.mergeSchema": "merging Parquet schemas across files",
    "spark.default.parallelism": "default number of partitions",
    "spark.driver.memory": "driver memory (local mode)",
    "spark.executor.memory": "memory per executor",
    "spark.executor.cores": "cores per executor",
    "spark.executor.instances": "number of executors",
    "spark.cores.max": "most cores a session takes on a cluster",
    "spark.dynamicAllocation.enabled": "dynamic executor allocation",
    "spark.dynamicAllocation.minExecutors": "fewest executors",
    "spark.dynamicAllocation.maxExecutors": "most executors",
    "spark.network.timeout": "network timeout",
    "spark.hadoop.fs.s3a.access.key": "S3 access key",
    "spark.hadoop.fs.s3a.secret.key": "S3 secret key",
    "spark.hadoop.fs.s3a.session.token": "S3 session token",
}
SESSION_OPTION_PATTERNS: dict[str, re.Pattern[str]] = {
    "spark.hadoop.fs.s3a.bucket.<bucket>.access.key / .secret.key / .session.token": re.compile(
        r"spark\.hadoop\.fs\.s3a\.bucket\.[a-z0-9][a-z0-9.-]{1,62}\."
        r"(?:access\.key|secret\.key|session\.token)"
    ),
    "spark.hadoop.fs.azure.account.key.<account>.dfs.core.windows.net (or .blob.)": re.compile(
        r"spark\.hadoop\.fs\.azure\.account\.key\.[a-z0-9]{3,24}\.(?:dfs|blob)\.core\.windows\.net"
    ),
}
# Applied to every analysis session after the source's options. Spark's variable
# substitution would replace ${env:NAME} and ${system:name} in SQL text with the worker's
# environment and JVM properties.
ENFORCED_SETTINGS = {"spark.sql.variable.substitute": "false"}


def option_problem(name: Any) -> str | None:
    """Why a data source may not set Spark option ``name`` (None: it may). Never looks at,
    or repeats, the option's value."""
    if isinstance(name, str) and (
        name in SESSION_OPTIONS or any(p.fullmatch(name) for p in SESSION_OPTION_PATTERNS.values())
    ):
        return None
    return (
        "Not a setting a data source may change: it could load code, read files or reach "
        "other hosts from the worker. Allowed: the tuning and storage-credential settings "
        "listed in docs/warehouse.md#security (e.g. spark.sql.shuffle.partitions, "
        "spark.executor.memory, spark.hadoop.fs.s3a.secret.key); others belong in the "
        "operator's Spark configuration."
    )


def option_value_problem(value: Any) -> str | None:
    """Why an option's value may not be used (None: it may), without repeating it: Spark
    expands ${env:NAME} and ${system:name} in settings' values."""
    if isinstance(value, str) and _SUBSTITUTION in value:
        return (
            "The value contains ${...}, which Spark would replace with the worker's "
            "environment; it is not allowed."
        )
    return None


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


# Segments ------------------------------------------------------------------------------------

MAX_SEGMENTS = 30
_SEGMENT_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")


def segments_problem(value: Any) -> str | None:
    """Why ``value`` is not a list of segment attribute keys (None: it is)."""
    if not isinstance(value, list | tuple):
        return 'Give a list of attribute keys, e.g. ["country", "platform"].'
    if len(value) > MAX_SEGMENTS:
        return f"At most {MAX_SEGMENTS} segment attributes."
    for key in value:
        if not isinstance(key, str) or not _SEGMENT_KEY.fullmatch(key):
            return (
                f"{str(key)[:64]!r} is not an attribute key (letters, digits, _ . : -, at most "
                "64 characters)."
            )
    if len(set(value)) != len(value):
        return "Each attribute key once."
    return None


# A whole definition --------------------------------------------------------------------------


def spark_source_errors(
    *,
    session_url: Any,
    exposures: Any,
    events: Any,
    exposure_columns: Mapping[str, Any] | None,
    event_columns: Mapping[str, Any] | None,
    options: Mapping[str, Any] | None,
    segments: Any,
    allowed_hosts: Sequence[str],
    lake_paths: Sequence[str],
) -> Errors:
    """Every rule a ``spark`` definition breaks, by field (``options.<name>`` per option);
    empty when it may run here."""
    errors: Errors = {}
    problem = session_url_problem(session_url, allowed_hosts)
    if problem:
        errors["session_url"] = [problem]
    for field, relation in (("exposures", exposures), ("events", events)):
        problem = relation_problem(relation, lake_paths)
        if problem:
            errors[field] = [problem]
    for field, columns in (
        ("exposure_columns", exposure_columns),
        ("event_columns", event_columns),
    ):
        for name, physical in (columns or {}).items():
            problem = column_name_problem(physical)
            if problem:
                errors.setdefault(f"{field}.{name}", []).append(problem)
    for name, value in (options or {}).items():
        problem = option_problem(name) or option_value_problem(value)
        if problem:
            errors.setdefault(f"options.{name}", []).append(problem)
    problem = segments_problem(segments if segments is not None else [])
    if problem:
        errors["segments"] = [problem]
    return errors
