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

    conf = {**DEFAULT_CONF, **dict(options or {})}
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
