"""Session URLs of a spark data source: which kind of session each one starts."""

from __future__ import annotations

import pytest

from analysis.warehouse.engine import relation_sql
from analysis.warehouse.session import session_kind


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("local", "local"),
        ("local[*]", "local"),
        ("local[2]", "local"),
        ("spark://spark-master:7077", "master"),
        ("yarn", "master"),
        ("sc://localhost:15002", "connect"),
        (
            "sc://dbc-1234.cloud.databricks.com:443/;token=secret;x-databricks-cluster-id=1",
            "connect",
        ),
    ],
)
def test_session_kind__known_urls__local_master_or_connect(url: str, kind: str) -> None:
    assert session_kind(url) == kind


@pytest.mark.parametrize(
    "url",
    [
        "",
        "local[0]",
        "local[two]",
        "local[4, 2]",
        "k8s://https://kube:6443",
        "http://spark:7077",
        "sc://",
        "postgres://u:secret@db/x",
    ],
)
def test_session_kind__other_urls__value_error_without_the_url(url: str) -> None:
    with pytest.raises(ValueError, match="session URL must be") as caught:
        session_kind(url)
    assert "secret" not in str(caught.value)


def test_relation_sql__table_name_or_select__the_checked_sql_as_a_from_clause_item() -> None:
    lake = ["/data/lake"]
    assert relation_sql("lake.events", lake) == "lake.events AS src"
    assert relation_sql("parquet.`/data/lake/events`", lake) == (
        "parquet.`/data/lake/events` AS src"
    )
    assert relation_sql(" select * from lake.events; ", lake) == (
        "(SELECT * FROM lake.events) AS src"
    )
    assert relation_sql("WITH e AS (SELECT 1) SELECT * FROM e", lake) == (
        "(WITH e AS (SELECT 1) SELECT * FROM e) AS src"
    )
    with pytest.raises(ValueError, match="table name"):
        relation_sql("  ", lake)
