"""Curve metrics on Spark: for the same exposures and events (the application database, and a
Parquet lake written from the same rows), every point of a retention curve and of a value to
date curve, its mature units and its comparison, equal the built-in engine's to 1e-9
relative. Runs Spark in local mode (``-m spark`` or VERDICT_FULL_SUITE=1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis.aggregation import experiment_inputs
from analysis.warehouse.engine import spark_inputs
from tests.analysis.helpers import experiment_with, metric
from tests.analysis.test_metric_curves import ACTIVITY, AS_OF, _simulate
from tests.analysis.warehouse.test_spark_equality import (  # noqa: F401 (the fixture)
    _json,
    _results,
    _source,
    assert_close,
    spark,
)

pytestmark = [pytest.mark.spark, pytest.mark.django_db]


def test_spark_inputs__retention_and_value_curves__equal_builtin_points_and_p_values(
    spark: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    retention = metric("sp_retention", "retention_curve", event="", activity=ACTIVITY)
    filtered = metric(
        "sp_ltv_new10",
        "value_curve",
        value_field="revenue",
        horizon_days=60,
        filter={"coupon": "NEW10"},
    )
    exp = experiment_with([(retention, "primary"), (filtered, "secondary")])
    _simulate(exp)

    builtin = _json(experiment_inputs(experiment=exp, as_of=AS_OF))
    on_spark = _json(spark_inputs(experiment=exp, as_of=AS_OF, source=_source(tmp_path, exp)))
    assert_close(builtin, on_spark)
    points = {m["metric"]: [p["point"] for p in m["points"]] for m in on_spark["metrics"]}
    assert points["sp_retention"][0] == "W1" and "M1" in points["sp_retention"]
    assert points["sp_ltv_new10"][0] == "D7" and "D60" in points["sp_ltv_new10"]
    assert assert_close(_results(exp, builtin), _results(exp, on_spark)) is None
