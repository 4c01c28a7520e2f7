"""Data sources: the service's rules (session URLs, relations, column maps, options kept secret,
deletes) and how an experiment names its source."""

from __future__ import annotations

import json
import logging

import pytest

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import AuditLogEntry, DataSource, Experiment
from experiments.services.data_sources import (
    data_source_create,
    data_source_delete,
    data_source_update,
)
from experiments.services.lifecycle import experiment_transition
from tests.factories import ready_experiment, started_experiment

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
SECRET = "s3cr3t-Value-9f2c1e"
TOKEN = "dapiTOKEN7a7a7a"
KEY_OPTION = "spark.hadoop.fs.s3a.secret.key"


@pytest.fixture(autouse=True)
def _operator_allows(settings) -> None:
    """The hosts and lake path these sources name, as an operator would allow them
    (docs/warehouse.md#security)."""
    settings.VERDICT_SPARK_ALLOWED_HOSTS = [
        "spark-master",
        "m1",
        "m2",
        "localhost",
        "dbc-1.example.com",
        "*.cloud.databricks.com",
        "yarn",
    ]
    settings.VERDICT_SPARK_ALLOWED_PATHS = ["/data/lake"]


def spark(**fields) -> dict:
    return {
        "key": "lake",
        "name": "Lake",
        "kind": "spark",
        "session_url": "local[2]",
        "exposures": "lake.exposures",
        "events": "lake.events",
        "options": {"spark.hadoop.fs.s3a.secret.key": SECRET},
        **fields,
    }


def errors_of(data: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        data_source_create(actor=ACTOR, data=data)
    assert not DataSource.objects.filter(key=data.get("key")).exists()
    return caught.value.errors


def test_create__spark_source__stored_as_given_and_audited_without_option_values() -> None:
    source = data_source_create(actor=ACTOR, data=spark())
    stored = DataSource.objects.get(key="lake")
    assert stored.options == {"spark.hadoop.fs.s3a.secret.key": SECRET}
    assert (stored.kind, stored.session_url, stored.events) == ("spark", "local[2]", "lake.events")
    entry = AuditLogEntry.objects.get(object_type="data_source", object_key=source.key)
    assert entry.action == "create"
    assert entry.after["options"] == {"spark.hadoop.fs.s3a.secret.key": "********"}
    assert SECRET not in json.dumps(entry.after)
    assert SECRET not in repr(stored)


@pytest.mark.parametrize(
    "url",
    [
        "local",
        "local[1]",
        "local[16]",
        "local[*]",
        "spark://spark-master:7077",
        "spark://m1:7077,m2:7077",
        "sc://localhost:15002",
        "sc://dbc-1.cloud.databricks.com:443/;use_ssl=true;token=abc;x-databricks-cluster-id=1",
        "yarn",
    ],
)
def test_create__accepted_session_url_forms__stored(url: str) -> None:
    source = data_source_create(actor=ACTOR, data=spark(session_url=url))
    assert source.session_url == url


@pytest.mark.parametrize(
    "url",
    [
        "local[0]",
        "local[x]",
        "spark://host",
        "spark://host:99999",
        "sc://host",
        "http://host:15002",
        "sc://host:15002/;token=a b",
        "yarn-cluster",
        "local[*]x",
    ],
)
def test_create__bad_session_url__400_on_session_url(url: str) -> None:
    errors = errors_of(spark(session_url=url))
    assert list(errors) == ["session_url"]
    assert "local[*]" in errors["session_url"][0]


def test_create__spark_without_url_or_relations__each_field_named() -> None:
    errors = errors_of(spark(session_url="", exposures="", events=None))
    assert {"session_url", "exposures", "events"} <= set(errors)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT user_id AS unit_id, ts AS timestamp FROM analytics.events",
        "WITH e AS (SELECT * FROM raw.events) SELECT * FROM e WHERE e.ts >= '2024-01-01'",
        "SELECT * FROM a.events UNION ALL SELECT * FROM b.events",
        "SELECT * FROM parquet.`/data/lake/events`",
        "parquet.`/data/lake/events`",
        "catalog.db.events",
    ],
)
def test_create__table_or_single_select__accepted(sql: str) -> None:
    assert data_source_create(actor=ACTOR, data=spark(events=sql)).events == sql


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT * FROM a; DROP TABLE a", "not 2 statements"),
        ("INSERT INTO a SELECT * FROM b", "INSERT"),
        ("DELETE FROM events", "DELETE"),
        ("CREATE TABLE x AS SELECT * FROM events", "CREATE"),
        ("DROP TABLE events", "DROP"),
        ("SELECT * FROM events WHERE", "not valid Spark SQL"),
        ("SELECT 'unterminated FROM events", "not valid Spark SQL"),
        ("SELECT " + "(" * 5000 + "1" + ")" * 5000, "not valid Spark SQL"),
        ("events where 1=1", "neither a table name"),
        ("FROM events SELECT *", "is one SELECT"),
        ("VALUES (1, 2)", "Only a SELECT"),
    ],
)
def test_create__ddl_dml_or_broken_sql__400_on_the_relation(sql: str, says: str) -> None:
    errors = errors_of(spark(events=sql))
    assert list(errors) == ["events"]
    assert says in errors["events"][0]


def test_create__unknown_logical_column_or_bad_physical_name__named_per_column() -> None:
    errors = errors_of(
        spark(
            exposure_columns={"user": "user_id", "unit_id": " "},
            event_columns={"timestamp": "ts"},
        )
    )
    assert set(errors) == {"exposure_columns.user", "exposure_columns.unit_id"}
    assert "unit_id, experiment, variant" in errors["exposure_columns.user"][0]


def test_create__builtin_with_spark_fields__refused() -> None:
    errors = errors_of({"key": "db", "name": "DB", "kind": "builtin", "session_url": "local"})
    assert list(errors) == ["session_url"]
    assert data_source_create(actor=ACTOR, data={"key": "db", "name": "DB", "kind": "builtin"})


def test_create__bad_option_value__error_never_echoes_values() -> None:
    errors = errors_of(spark(options={"spark.a": {"nested": SECRET}}))
    assert list(errors) == ["options.spark.a"]
    assert SECRET not in json.dumps(errors)


def test_update__options_merge_by_name_and_null_removes__values_kept_private() -> None:
    a, b, c = KEY_OPTION, "spark.sql.shuffle.partitions", "spark.executor.memory"
    source = data_source_create(actor=ACTOR, data=spark(options={a: SECRET, b: "1"}))
    data_source_update(actor=ACTOR, source=source, data={"options": {b: None, c: "2"}})
    assert DataSource.objects.get(key="lake").options == {a: SECRET, c: "2"}
    data_source_update(actor=ACTOR, source=source, data={"options": {a: "rotated"}})
    assert DataSource.objects.get(key="lake").options == {a: "rotated", c: "2"}
    updates = AuditLogEntry.objects.filter(object_key="lake", action="update").order_by("id")
    assert [e.message for e in updates] == ["", "Option values changed."]
    assert all(SECRET not in json.dumps([e.before, e.after]) for e in updates)


def test_update__masked_token_sent_back__stored_token_kept() -> None:
    url = f"sc://dbc-1.example.com:443/;use_ssl=true;token={TOKEN}"
    source = data_source_create(actor=ACTOR, data=spark(session_url=url))
    entry = AuditLogEntry.objects.get(object_key="lake", action="create")
    assert entry.after["session_url"] == "sc://dbc-1.example.com:443/;use_ssl=true;token=********"
    data_source_update(
        actor=ACTOR, source=source, data={"session_url": entry.after["session_url"], "name": "L"}
    )
    assert DataSource.objects.get(key="lake").session_url == url


def test_update__key_change__refused() -> None:
    source = data_source_create(actor=ACTOR, data=spark())
    with pytest.raises(ValidationFailed) as caught:
        data_source_update(actor=ACTOR, source=source, data={"key": "other"})
    assert "key" in caught.value.errors


def test_delete__used_by_running_experiment__refused_and_kept() -> None:
    source = data_source_create(actor=ACTOR, data=spark())
    started_experiment(key="pricing", data_source=source)
    with pytest.raises(ValidationFailed) as caught:
        data_source_delete(actor=ACTOR, source=source)
    assert "pricing" in caught.value.errors["non_field_errors"][0]
    assert DataSource.objects.filter(key="lake").exists()


def test_delete__used_by_draft__draft_goes_back_to_builtin_with_audit() -> None:
    source = data_source_create(actor=ACTOR, data=spark())
    ready_experiment(key="draft-one", data_source=source)
    data_source_delete(actor=ACTOR, source=source)
    assert not DataSource.objects.filter(key="lake").exists()
    assert Experiment.objects.get(key="draft-one").data_source is None
    entry = AuditLogEntry.objects.get(experiment__key="draft-one", action="update")
    assert entry.before == {"data_source": "lake"} and entry.after == {"data_source": None}
    assert AuditLogEntry.objects.filter(object_key="lake", action="delete").exists()


def test_experiment_api__names_source__stored_shown_and_locked_once_started(editor) -> None:
    data_source_create(actor=ACTOR, data=spark())
    data_source_create(actor=ACTOR, data=spark(key="other"))
    ready_experiment(key="exp")
    response = editor.patch("/api/v1/experiments/exp", {"data_source": "lake"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data_source"] == "lake"
    assert SECRET not in response.content.decode()
    response = editor.patch("/api/v1/experiments/exp", {"data_source": "nope"}, format="json")
    assert response.status_code == 400
    assert 'No data source with key "nope"' in response.json()["data_source"][0]

    experiment_transition(actor=ACTOR, experiment=Experiment.objects.get(key="exp"), action="start")
    for value in ("other", None):
        response = editor.patch("/api/v1/experiments/exp", {"data_source": value}, format="json")
        assert response.status_code == 400
        assert "cannot change once the experiment has started" in response.json()["data_source"][0]
    assert Experiment.objects.get(key="exp").data_source.key == "lake"
    same = editor.patch("/api/v1/experiments/exp", {"data_source": "lake"}, format="json")
    assert same.status_code == 200
    assert editor.get("/api/v1/experiments/exp").json()["data_source"] == "lake"


def test_experiment_api__no_source__null_means_builtin(editor) -> None:
    ready_experiment(key="exp")
    assert editor.get("/api/v1/experiments/exp").json()["data_source"] is None


def test_service_calls__any_log_level__option_values_never_logged(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    source = data_source_create(actor=ACTOR, data=spark())
    data_source_update(actor=ACTOR, source=source, data={"options": {KEY_OPTION: SECRET}})
    with pytest.raises(ValidationFailed):
        data_source_update(actor=ACTOR, source=source, data={"options": {"y": [SECRET]}})
    data_source_delete(actor=ACTOR, source=source)
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert SECRET not in logged
