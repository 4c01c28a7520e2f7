"""History segments on Spark: for the same exposures and events (the application database,
and a Parquet lake written from the same rows), the new/returning, RFM, RFM-group and
spend-tier segments' inputs and results (SRM, BH-adjusted p-values) equal the built-in
engine's to 1e-9 relative. Runs Spark in local mode (``-m spark`` or VERDICT_FULL_SUITE=1)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from analysis.aggregation import experiment_inputs
from analysis.warehouse.engine import spark_inputs
from tests.analysis.helpers import T0, Data, experiment_with
from tests.analysis.warehouse.test_spark_equality import (  # noqa: F401 (the fixture)
    AS_OF,
    DAY,
    HOUR,
    _json,
    _metrics,
    _populate,
    _results,
    _source,
    assert_close,
    spark,
)

pytestmark = [pytest.mark.spark, pytest.mark.django_db]


def test_spark_inputs__history_segments__equal_builtin_inputs_and_p_values(
    spark: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    exp = experiment_with(
        _metrics(),
        variants=("control", "b", "c"),
        history_segments={
            "kinds": ["new_vs_returning", "rfm", "spend_tier"],
            "days": 14,
            "value_event": "purchase",
            "value_field": "revenue",
            "new_attribute": "is_new_user",
        },
        segment_correction="bh",
    )
    _populate(exp, units=240, seed=11)
    # History of other event names (frequency counts every event), some outside the look-back.
    rng = random.Random(25)
    d = Data(exp)
    for i in range(0, 240, 2):
        for _ in range(rng.randrange(0, 4)):
            d.event(f"u{i}", T0 - rng.uniform(0, 20) * DAY + HOUR, "page_view")
    d.save()

    builtin = _json(experiment_inputs(experiment=exp, as_of=AS_OF))
    on_spark = _json(spark_inputs(experiment=exp, as_of=AS_OF, source=_source(tmp_path, exp)))
    assert_close(builtin, on_spark)
    attributes = {s["attribute"] for s in on_spark["segments"]}
    assert {
        "history:new_vs_returning",
        "history:rfm",
        "history:rfm_group",
        "history:spend_tier",
    } <= attributes
    groups = {s["value"] for s in on_spark["segments"] if s["attribute"] == "history:rfm_group"}
    assert {"champions", "regulars", "at_risk"} <= groups

    spark_results, builtin_results = _results(exp, on_spark), _results(exp, builtin)
    assert_close(builtin_results, spark_results)
    history = [s for s in spark_results["segments"] if s["attribute"].startswith("history:")]
    assert all(s["corrected"] for s in history)
