"""Issue #21, defect 8, where a data source runs: a stored source that breaks the data-source
rules (saved before them, or allowed by a setting since changed) fails its refresh with a
clear error instead of running; sessions open only to allowed hosts with allowed options and
without variable substitution; relations run as checked SQL; only declared segment
attributes leave Spark."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from analysis.models import ResultSnapshot
from analysis.services.snapshots import RefreshFailed, experiment_refresh
from analysis.warehouse.engine import relation_sql, spark_run
from analysis.warehouse.routing import spark_source_for
from analysis.warehouse.session import session_refusal, spark_session
from analysis.warehouse.source import SparkSource
from core.actors import Actor
from experiments.data_source_rules import RuleViolation
from experiments.models import DataSource, Experiment
from experiments.services.data_sources import data_source_create
from tests.analysis.helpers import T0, Data, experiment_with, metric

pytestmark = pytest.mark.django_db
AS_OF = T0 + dt.timedelta(days=10)
H = dt.timedelta(hours=1)
SECRET = "s3cr3t-Value-9f2c1e"
SPARK_CONF = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"}


def populated(attributes: dict[str, Any] | None = None, **fields: Any) -> Experiment:
    exp = experiment_with([(metric("conv"), "primary")], key="pricing", **fields)
    data = Data(exp)
    for i in range(30):
        unit = f"u{i}"
        attrs = {"platform": ("ios", "web")[i % 2], **(attributes or {})}
        data.expose(unit, ("control", "treatment")[i % 2], T0 + i * H, attributes=attrs)
        if i % 3:
            data.event(unit, T0 + i * H + 2 * H, value=1.0)
    data.save()
    return exp


def stored_before_the_rules(**fields: Any) -> DataSource:
    """A spark source as an earlier release stored it: written directly, never checked."""
    return DataSource.objects.create(
        **{
            "key": "lake",
            "name": "Lake",
            "kind": "spark",
            "session_url": "local[2]",
            "exposures": "lake.exposures",
            "events": "lake.events",
            **fields,
        }
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        (
            {
                "exposures": "SELECT unit_id, experiment, variant, phase, first_exposed_at, "
                "TO_JSON(MAP('key', reflect('java.lang.System', 'getenv', 'DJANGO_SECRET_KEY'))) "
                "AS attributes FROM lake.exposures"
            },
            "exposures: The function REFLECT is not allowed",
        ),
        (
            {"events": "SELECT value AS unit_id FROM text.`/etc/passwd`"},
            "events: text.`/etc/passwd` reads files with the 'text' format",
        ),
        ({"options": {"spark.jars": "http://x/evil.jar"}}, "options.spark.jars: Not a setting"),
        ({"session_url": "sc://169.254.169.254:80"}, "may not connect to 169.254.169.254:80"),
    ],
)
def test_refresh__stored_source_breaking_the_rules__failed_snapshot_says_which_nothing_run(
    viewer, settings, fields: dict[str, Any], says: str
) -> None:
    exp = populated(data_source=stored_before_the_rules(**fields))
    with pytest.raises(RefreshFailed):
        experiment_refresh(experiment=exp, as_of=AS_OF)
    failed = ResultSnapshot.objects.get(experiment=exp, status="failed")
    assert "breaks this server's data-source rules, so it was not run" in failed.error
    assert says in failed.error
    assert "evil.jar" not in failed.error
    response = viewer.get("/api/v1/experiments/pricing/results")
    assert settings.SECRET_KEY not in response.content.decode()


def test_refresh__host_allowed_when_saved_then_removed__refused_at_refresh(settings) -> None:
    settings.VERDICT_SPARK_ALLOWED_HOSTS = ["spark.internal"]
    source = data_source_create(
        actor=Actor.system("test"),
        data={
            "key": "lake",
            "name": "Lake",
            "kind": "spark",
            "session_url": f"sc://spark.internal:15002/;token={SECRET}",
            "exposures": "lake.exposures",
            "events": "lake.events",
        },
    )
    exp = populated(data_source=source)
    settings.VERDICT_SPARK_ALLOWED_HOSTS = []
    with pytest.raises(RefreshFailed):
        experiment_refresh(experiment=exp, as_of=AS_OF)
    failed = ResultSnapshot.objects.get(experiment=exp, status="failed")
    assert "may not connect to spark.internal:15002" in failed.error
    assert SECRET not in failed.error


def test_refresh__lake_path_no_longer_allowed__refused_at_refresh(settings) -> None:
    settings.VERDICT_SPARK_ALLOWED_PATHS = ["/data/lake"]
    source = data_source_create(
        actor=Actor.system("test"),
        data={
            "key": "lake",
            "name": "Lake",
            "kind": "spark",
            "session_url": "local[2]",
            "exposures": "parquet.`/data/lake/exposures`",
            "events": "parquet.`/data/lake/events`",
        },
    )
    exp = populated(data_source=source)
    settings.VERDICT_SPARK_ALLOWED_PATHS = ["/data/other"]
    with pytest.raises(RefreshFailed):
        experiment_refresh(experiment=exp, as_of=AS_OF)
    failed = ResultSnapshot.objects.get(experiment=exp, status="failed")
    assert "outside the lake paths this server allows (/data/other)" in failed.error


@pytest.mark.parametrize(
    ("allowed", "url", "refused"),
    [
        ([], "local[2]", False),
        ([], "sc://spark.internal:15002", True),
        ([], "spark://spark-master:7077", True),
        ([], "yarn", True),
        (["spark.internal"], "sc://spark.internal:15002/;token=abc", False),
        ("spark.internal:15002", "sc://spark.internal:15003", True),
        ("spark-master, yarn", "spark://spark-master:7077", False),
        ("spark-master, yarn", "yarn", False),
        (["*.cloud.databricks.com"], "sc://dbc-1.cloud.databricks.com:443", False),
        (["*.cloud.databricks.com"], "sc://169.254.169.254:80", True),
    ],
)
def test_session_refusal__host_allow_list_set_and_unset__honoured(
    settings, allowed, url: str, refused: bool
) -> None:
    settings.VERDICT_SPARK_ALLOWED_HOSTS = allowed
    problem = session_refusal(url, {"spark.sql.shuffle.partitions": "2"})
    assert (problem is not None) == refused, problem
    if refused:
        assert "VERDICT_SPARK_ALLOWED_HOSTS" in problem
        assert "abc" not in problem


def test_spark_session__host_or_option_not_allowed__refused_before_any_session() -> None:
    with pytest.raises(RuleViolation, match="may not connect to 169.254.169.254:80"):
        spark_session("sc://169.254.169.254:80")
    with pytest.raises(RuleViolation, match="spark.driver.extraJavaOptions, spark.jars"):
        spark_session(
            "local[1]",
            {"spark.jars": "x.jar", "spark.driver.extraJavaOptions": SECRET, "spark.cores.max": 1},
        )
    with pytest.raises(RuleViolation, match="spark.sql.session.timeZone") as caught:
        spark_session("local[1]", {"spark.sql.session.timeZone": "${env:DJANGO_SECRET_KEY}"})
    assert "env:DJANGO" not in str(caught.value)


def test_spark_run__source_breaking_the_rules__refused_before_a_session_opens() -> None:
    exp = populated()
    source = SparkSource(
        session_url="local[1]",
        exposures="lake.exposures",
        events="SELECT java_method('java.lang.System', 'getenv', 'HOME') AS unit_id FROM t",
        options={"spark.sql.extensions": "x"},
    )
    with pytest.raises(RuleViolation) as caught:
        spark_run(experiment=exp, as_of=AS_OF, source=source)
    assert "events: The function JAVA_METHOD" in str(caught.value)
    assert "options.spark.sql.extensions" in str(caught.value)


def test_relation_sql__path_outside_the_lake__refused(settings) -> None:
    settings.VERDICT_SPARK_ALLOWED_PATHS = ["/data/lake"]
    assert relation_sql("parquet.`/data/lake/events`") == "parquet.`/data/lake/events` AS src"
    with pytest.raises(RuleViolation, match="outside the lake paths"):
        relation_sql("parquet.`/etc`")
    # What runs is the SQL generated from the checked tree, comments and all left out.
    assert relation_sql("SELECT * /* reflect('a', 'b') */ FROM lake.events -- x") == (
        "(SELECT * FROM lake.events) AS src"
    )


def test_spark_source_for__declared_segments__carried_to_the_engine() -> None:
    source = data_source_create(
        actor=Actor.system("test"),
        data={
            "key": "lake",
            "name": "Lake",
            "kind": "spark",
            "session_url": "local[2]",
            "exposures": "lake.exposures",
            "events": "lake.events",
            "segments": ["platform", "country"],
        },
    )
    assert spark_source_for(source).segments == ("platform", "country")


# On Spark ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark() -> Any:
    import logging

    logging.getLogger("py4j").setLevel(logging.WARNING)
    return spark_session("local[2]", SPARK_CONF)


def _lake_source(root: Path, segments: tuple[str, ...]) -> SparkSource:
    from tests.analysis.warehouse.lake import write_lake

    exposures, events = write_lake(root)
    return SparkSource(
        session_url="local[2]",
        exposures=f"parquet.`{exposures}`",
        events=f"parquet.`{events}`",
        options=SPARK_CONF,
        segments=segments,
    )


@pytest.mark.spark
def test_spark_run__undeclared_attributes__values_never_reach_the_inputs(
    spark: Any, tmp_path: Path
) -> None:
    exp = populated(attributes={"note": "TOP-SECRET-line", "country": "SG"})
    inputs, _ = spark_run(
        experiment=exp, as_of=AS_OF, source=_lake_source(tmp_path, ("platform",)), spark=spark
    )
    assert {s.attribute for s in inputs.segments} == {"platform"}
    stored = json.dumps(inputs.to_dict())
    assert "TOP-SECRET" not in stored and '"SG"' not in stored
    none, run = spark_run(experiment=exp, as_of=AS_OF, source=_lake_source(tmp_path / "b", ()))
    assert none.segments == ()
    assert "TOP-SECRET" not in json.dumps(none.to_dict())
    assert not any("TOP-SECRET" in str(sql) for sql in run.sql)


@pytest.mark.spark
def test_spark_session__any_options__variable_substitution_off(spark: Any) -> None:
    assert spark.sql("SELECT '${env:HOME}' AS v").collect()[0][0] == "${env:HOME}"
    again = spark_session("local[2]", {**SPARK_CONF, "spark.sql.session.timeZone": "UTC"})
    assert again.conf.get("spark.sql.variable.substitute") == "false"
