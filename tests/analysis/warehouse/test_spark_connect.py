"""A spark data source reached through Spark Connect (``sc://``), as a Databricks cluster or
a ``start-connect-server.sh`` server is: here pyspark's local Connect server, started for
this module, and a source whose session URL is ``sc://localhost:<port>``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analysis.aggregation import experiment_inputs
from analysis.warehouse.engine import spark_inputs
from analysis.warehouse.source import SparkSource
from tests.analysis.warehouse.lake import write_lake
from tests.analysis.warehouse.test_spark_equality import (
    AS_OF,
    SEGMENTS,
    TEST_CONF,
    _experiment,
    _json,
    assert_close,
)

pytestmark = [pytest.mark.spark, pytest.mark.django_db]

PORT = 15002  # Spark Connect's default port, where pyspark's local server listens


@pytest.fixture(scope="module")
def connect_server() -> Iterator[str]:
    """pyspark's local Spark Connect server (a JVM of its own); yields its sc:// URL."""
    from pyspark.sql import SparkSession

    logging.getLogger("py4j").setLevel(logging.WARNING)
    # A classic session left by an earlier module (the engine keeps its sessions) would stop
    # the Connect server from starting in this process: stop it; later modules make their own.
    classic = SparkSession.getActiveSession()
    if classic is not None:
        classic.stop()
    server = (
        SparkSession.builder.remote("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield f"sc://localhost:{PORT}"
    server.stop()


def test_spark_inputs__through_spark_connect__equal_builtin_inputs(
    connect_server: str, tmp_path: Path, settings: Any
) -> None:
    settings.VERDICT_SPARK_ALLOWED_HOSTS = [f"localhost:{PORT}"]
    exp = _experiment(units=60, seed=11)
    exposures, events = write_lake(tmp_path)
    source = SparkSource(
        session_url=connect_server,
        exposures=f"parquet.`{exposures}`",
        events=f"parquet.`{events}`",
        options=TEST_CONF,
        segments=SEGMENTS,
    )
    on_spark: Any = _json(spark_inputs(experiment=exp, as_of=AS_OF, source=source))
    builtin = _json(experiment_inputs(experiment=exp, as_of=AS_OF))
    assert_close(builtin, on_spark)
    assert sum(on_spark["units"].values()) == 60
