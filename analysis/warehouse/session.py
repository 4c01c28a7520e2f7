"""A Spark session from a data source's session URL.

``local``, ``local[N]``, ``local[*]`` and cluster master URLs (``spark://host:7077``,
``yarn``) start (or reuse) a classic session with that master; ``sc://host:port`` connects to
a Spark Connect server (Databricks, or ``start-connect-server.sh``) with
``SparkSession.builder.remote``. The source's options are applied as Spark configuration;
they may hold secrets and are never logged or put into error messages.

Before any session is opened, the URL's hosts are checked against the operator's allow list
(``VERDICT_SPARK_ALLOWED_HOSTS``, read now, not when the source was saved) and the options
against the allowed settings (``experiments.data_source_rules``); ``ENFORCED_SETTINGS`` (no
variable substitution) are applied after the options.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.data_source_rules import (
    ENFORCED_SETTINGS,
    RuleViolation,
    option_problem,
    option_value_problem,
    session_url_problem,
)
from experiments.data_source_rules import session_kind as _session_kind
from experiments.services.data_sources import spark_allowed_hosts

# Spark settings every analysis session gets (the source's options may override them):
# times are compared in UTC, and a refresh needs no web UI.
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


def session_kind(url: str) -> str:
    """``local``, ``master`` or ``connect``; a ValueError (``RuleViolation``) that does not
    repeat the URL for anything else."""
    return _session_kind((url or "").strip())


def session_refusal(url: str, options: Mapping[str, Any] | None = None) -> str | None:
    """Why no session may be opened for ``url`` with ``options`` here (None: it may)."""
    problem = session_url_problem((url or "").strip(), spark_allowed_hosts())
    if problem:
        return problem
    refused = sorted(
        name
        for name, value in (options or {}).items()
        if option_problem(name) or option_value_problem(value)
    )
    if refused:
        return (
            f"Spark options a data source may not set: {', '.join(refused)} (the allowed ones, "
            "and values without ${...}, are in docs/warehouse.md#security)."
        )
    return None


def spark_session(url: str, options: Mapping[str, str] | None = None) -> Any:
    """The Spark session for ``url`` (see the module docstring). Raises ``RuleViolation`` (a
    ValueError) for a URL of no known kind, a host the operator has not allowed, or an option
    a data source may not set; pyspark's own errors (unreachable server, no Java) propagate
    with their messages, which never contain the options."""
    problem = session_refusal(url, options)
    if problem:
        raise RuleViolation(problem)
    kind = session_kind(url)
    from pyspark.sql import SparkSession

    conf = {**DEFAULT_CONF, **dict(options or {}), **ENFORCED_SETTINGS}
    if kind == "connect":
        return _connect_session(url.strip(), conf)
    builder = SparkSession.builder.master(url.strip())
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


# A Connect server that cannot be reached fails the refresh after about this many seconds of
# retries (pyspark's default policy keeps trying for 10 minutes, holding a worker).
CONNECT_RETRY_SECONDS = 10


def _connect_session(url: str, conf: dict[str, str]) -> Any:
    """A Spark Connect session whose retries give up after ``CONNECT_RETRY_SECONDS``: the
    session is made without settings (no call to the server), its retry policy shortened,
    and then the settings are sent."""
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.retries import DefaultPolicy

    session = SparkSession.builder.remote(url).getOrCreate()
    # 50 ms, x4 each time, at most 4 s apart: 0.05 + 0.2 + 0.8 + 3.2 + 4 + 4 = about 12 s.
    session.client.set_retry_policies(
        [DefaultPolicy(max_retries=6, initial_backoff=50, max_backoff=4000)]
    )
    # A Connect client cannot set static settings of the server (its UI, for one).
    for key, value in conf.items():
        if not key.startswith("spark.ui."):
            session.conf.set(key, value)
    return session
