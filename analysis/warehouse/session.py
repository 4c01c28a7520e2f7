"""A Spark session from a data source's session URL.

``local``, ``local[N]``, ``local[*]`` and cluster master URLs (``spark://host:7077``,
``yarn``, ``k8s://...``) start (or reuse) a classic session with that master; ``sc://host:port``
connects to a Spark Connect server (Databricks, or ``start-connect-server.sh``) with
``SparkSession.builder.remote``. The source's options are applied as Spark configuration;
they may hold secrets and are never logged or put into error messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Spark settings every analysis session gets (the source's options may override them):
# times are compared in UTC, and a refresh needs no web UI.
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}

_LOCAL = re.compile(r"^local(\[(\*|[1-9][0-9]*)(,\s*[0-9]+)?\])?$")
_MASTER = re.compile(r"^(spark|k8s|mesos)://\S+$|^yarn$")
_CONNECT = re.compile(r"^sc://[^\s/]+(/\S*)?$")


def session_kind(url: str) -> str:
    """``local``, ``master`` or ``connect``; a ValueError for anything else."""
    url = (url or "").strip()
    if _LOCAL.match(url):
        return "local"
    if _MASTER.match(url):
        return "master"
    if _CONNECT.match(url):
        return "connect"
    raise ValueError(
        "session URL must be local[*], local[N], a master URL (spark://host:7077) or a "
        "Spark Connect URL (sc://host:15002)"
    )


def spark_session(url: str, options: Mapping[str, str] | None = None) -> Any:
    """The Spark session for ``url`` (see the module docstring). Raises ValueError for a URL
    of no known kind; pyspark's own errors (unreachable server, no Java) propagate with
    their messages, which never contain the options."""
    kind = session_kind(url)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    builder = builder.remote(url.strip()) if kind == "connect" else builder.master(url.strip())
    conf = {**DEFAULT_CONF, **dict(options or {})}
    if kind == "connect":
        # A Connect client cannot set static settings of the server (its UI, for one).
        conf = {k: v for k, v in conf.items() if not k.startswith("spark.ui.")}
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if kind != "connect":
        session.sparkContext.setLogLevel("ERROR")
    return session
