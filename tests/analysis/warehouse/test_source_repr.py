"""A SparkSource printed (in a log line or a traceback) shows no secret."""

from analysis.warehouse.source import SparkSource


def test_repr__connect_url_token_and_options__not_shown() -> None:
    source = SparkSource(
        session_url="sc://dbc-123.cloud.databricks.com:443/;token=dapi-SECRET-1;x-cluster=abc",
        exposures="lake.exposures",
        events="lake.events",
        options={"spark.hadoop.fs.s3a.secret.key": "S3-SECRET-2"},
    )
    shown = repr(source)
    assert "SECRET" not in shown
    assert "sc://dbc-123.cloud.databricks.com:443" in shown
