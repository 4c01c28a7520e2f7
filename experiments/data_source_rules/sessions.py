"""Where a spark data source's sessions may connect, and the settings it may give them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .errors import RuleViolation

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
    if isinstance(value, str) and "${" in value:
        return (
            "The value contains ${...}, which Spark would replace with the worker's "
            "environment; it is not allowed."
        )
    return None
