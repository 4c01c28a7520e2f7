"""Refresh routing: an experiment's data source decides where its inputs are computed; a Spark
failure is a failed snapshot with a clear message (no stack text, no secrets)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import math
from typing import Any

import pytest

from analysis.aggregation import experiment_inputs
from analysis.api.views import refresh_error_public
from analysis.engine.contract import SnapshotInputs
from analysis.models import ResultSnapshot
from analysis.services.snapshots import RefreshFailed, experiment_refresh
from analysis.warehouse.export import lake_export
from analysis.warehouse.routing import spark_failure_message, spark_source_for
from analysis.warehouse.source import SparkSource
from core.actors import Actor
from experiments.models import DataSource, Experiment
from experiments.services.data_sources import data_source_create
from tests.analysis.helpers import T0, Data, experiment_with, metric

pytestmark = pytest.mark.django_db
AS_OF = T0 + dt.timedelta(days=10)
H = dt.timedelta(hours=1)
SECRET = "s3cr3t-Value-9f2c1e"
ENGINE_MISSING = importlib.util.find_spec("analysis.warehouse.engine") is None
PYSPARK_MISSING = importlib.util.find_spec("pyspark") is None
needs_engine = pytest.mark.skipif(
    ENGINE_MISSING or PYSPARK_MISSING,
    reason=(
        "analysis.warehouse.engine (the Spark engine half of issue #17) or pyspark is not "
        "installed here yet"
    ),
)


@pytest.fixture(autouse=True)
def _operator_allows(settings) -> None:
    """The Connect hosts these sources name, as an operator would allow them."""
    settings.VERDICT_SPARK_ALLOWED_HOSTS = ["spark.internal", "127.0.0.1"]


def populated(**fields: Any) -> Experiment:
    arpu = metric("arpu", "mean", value_field="revenue")
    exp = experiment_with(
        [(metric("conv"), "primary"), (arpu, "secondary")], key="pricing", **fields
    )
    data = Data(exp)
    for i in range(40):
        unit = f"u{i}"
        platform = ("ios", "android", "web")[i % 3]
        data.expose(
            unit, ("control", "treatment")[i % 2], T0 + i * H, attributes={"platform": platform}
        )
        if i % 3:
            data.event(unit, T0 + i * H + 2 * H, value=float(i % 7) + 0.25)
    data.save()
    return exp


def spark_source(key: str = "lake", **fields: Any) -> DataSource:
    return data_source_create(
        actor=Actor.system("test"),
        data={
            "key": key,
            "name": key,
            "kind": "spark",
            "session_url": "local[2]",
            "exposures": "lake.exposures",
            "events": "lake.events",
            "options": {"spark.hadoop.fs.s3a.secret.key": SECRET},
            **fields,
        },
    )


def _json(value: Any) -> Any:
    """Inputs (typed, or already JSON) as the database stores them."""
    if isinstance(value, SnapshotInputs):
        value = value.to_dict()
    return json.loads(json.dumps(value))


def assert_close(a: Any, b: Any, path: str = "") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, path


def test_refresh__no_data_source__inputs_from_the_application_database() -> None:
    exp = populated()
    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)
    assert snapshot.status == "ok"
    assert snapshot.inputs == _json(experiment_inputs(experiment=exp, as_of=AS_OF))
    assert '"conv"' in json.dumps(snapshot.inputs) and '"arpu"' in json.dumps(snapshot.inputs)


def test_refresh__builtin_data_source__same_as_none() -> None:
    builtin = data_source_create(
        actor=Actor.system("test"), data={"key": "db", "name": "DB", "kind": "builtin"}
    )
    exp = populated(data_source=builtin)
    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)
    assert snapshot.inputs == _json(experiment_inputs(experiment=exp, as_of=AS_OF))


def test_spark_source_for__definition__engine_value_with_string_settings() -> None:
    source = spark_source(
        session_url="sc://spark.internal:15002/;token=abc",
        exposure_columns={"unit_id": "user_id"},
        event_columns={"timestamp": "ts"},
        options={
            "spark.sql.shuffle.partitions": 8,
            "spark.sql.adaptive.enabled": True,
            "spark.hadoop.fs.s3a.secret.key": SECRET,
        },
        segments=["platform"],
    )
    value = spark_source_for(source)
    assert value == SparkSource(
        session_url="sc://spark.internal:15002/;token=abc",
        exposures="lake.exposures",
        events="lake.events",
        exposure_columns={"unit_id": "user_id"},
        event_columns={"timestamp": "ts"},
        options={
            "spark.sql.shuffle.partitions": "8",
            "spark.sql.adaptive.enabled": "true",
            "spark.hadoop.fs.s3a.secret.key": SECRET,
        },
        segments=("platform",),
    )
    assert SECRET not in repr(value)


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (ImportError("No module named 'pyspark'"), "not installed on this server"),
        (
            ConnectionRefusedError("[Errno 111] Connection refused\n  at io.grpc..."),
            "could not be reached at sc://spark.internal:15002/;token=********",
        ),
        (
            ValueError(f"the events relation has no column 'ts' {SECRET}\nTraceback..."),
            'Data source "lake" does not fit the analysis: the events relation has no column',
        ),
        (RuntimeError(f"boom with {SECRET}\n\tat org.apache.spark.Foo"), "(RuntimeError): boom"),
    ],
)
def test_spark_failure_message__each_kind__one_clear_line_without_secrets(exc, says) -> None:
    source = spark_source(session_url="sc://spark.internal:15002/;token=abcdefgh")
    message = spark_failure_message(exc, source)
    assert says in message
    assert "\n" not in message and "at org.apache" not in message
    assert SECRET not in message and "abcdefgh" not in message


@pytest.mark.skipif(
    not (ENGINE_MISSING or PYSPARK_MISSING), reason="the Spark engine is installed here"
)
def test_refresh__spark_source_without_the_engine__failed_snapshot_saying_so() -> None:
    exp = populated(data_source=spark_source())
    with pytest.raises(RefreshFailed) as caught:
        experiment_refresh(experiment=exp, as_of=AS_OF)
    assert "not installed on this server" in caught.value.snapshot.error


@needs_engine
@pytest.mark.spark
def test_refresh__spark_source_on_the_exported_lake__same_inputs_as_builtin(tmp_path) -> None:
    """The experiment's own rows, exported to the lake, read back by the Spark engine through
    the routing: the snapshot's inputs equal the application database's."""
    exp = populated()
    builtin = _json(experiment_inputs(experiment=exp, as_of=AS_OF))
    lake_export(destination=str(tmp_path))
    source = spark_source(
        exposures=f"parquet.`{tmp_path}/exposures`",
        events=f"SELECT * FROM parquet.`{tmp_path}/events` WHERE event IS NOT NULL",
        options={"spark.sql.shuffle.partitions": "4"},
        segments=["platform"],
    )
    Experiment.objects.filter(pk=exp.pk).update(data_source=source)
    exp.refresh_from_db()
    snapshot = experiment_refresh(experiment=exp, as_of=AS_OF)
    assert snapshot.status == "ok"
    assert_close(snapshot.inputs, builtin)


@needs_engine
@pytest.mark.spark
def test_refresh__spark_query_fails__failed_snapshot_clear_message_no_stack(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    exp = populated(data_source=spark_source(events="SELECT * FROM no_such_db.no_such_events"))
    with pytest.raises(RefreshFailed):
        experiment_refresh(experiment=exp, as_of=AS_OF)
    failed = ResultSnapshot.objects.get(experiment=exp, status="failed")
    assert failed.error.startswith("analysis.warehouse.routing.SparkRefreshFailed: ")
    assert 'data source "lake"' in failed.error
    for bad in ("\n", "JVM stacktrace", "at org.apache", "Traceback", SECRET):
        assert bad not in failed.error
    public = refresh_error_public(failed)
    assert "(SparkRefreshFailed)" in public and "no_such" not in public
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert SECRET not in logged


@needs_engine
@pytest.mark.spark
def test_refresh__connect_server_unreachable__failed_within_a_minute_saying_so() -> None:
    """pyspark's default retries would hold the worker for 10 minutes; the engine's policy
    gives up after about 12 s of retries and the refresh is stored as failed."""
    import time

    from pyspark.sql import SparkSession

    classic = SparkSession.getActiveSession()  # a Connect session cannot start beside it
    if classic is not None:
        classic.stop()
    exp = populated(data_source=spark_source(session_url="sc://127.0.0.1:1/;token=" + SECRET))
    started = time.monotonic()
    with pytest.raises(RefreshFailed):
        experiment_refresh(experiment=exp, as_of=AS_OF)
    assert time.monotonic() - started < 60
    failed = ResultSnapshot.objects.get(experiment=exp, status="failed")
    assert "could not be reached" in failed.error
    assert SECRET not in failed.error
