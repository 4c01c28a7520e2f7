"""The Spark engine against the built-in one: for the same exposures and events (in the
application database, and as a Parquet lake written from the same rows), a snapshot's inputs
and its computed results (p-values included) are equal to 1e-9 relative.

Runs Spark in local mode (``-m spark`` or VERDICT_FULL_SUITE=1); one session per module.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analysis.aggregation import experiment_inputs
from analysis.engine.contract import SnapshotInputs
from analysis.engine.results import results_compute
from analysis.engine.stats import ENGINE_VERSION
from analysis.services.snapshots import experiment_plan
from analysis.warehouse.engine import spark_inputs, spark_run
from analysis.warehouse.session import spark_session
from analysis.warehouse.source import SparkSource
from experiments.models import Experiment
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.analysis.warehouse.lake import write_lake

pytestmark = [pytest.mark.spark, pytest.mark.django_db]

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
US = dt.timedelta(microseconds=1)
AS_OF = T0 + 10 * DAY
SESSION = "local[2]"
REL = 1e-9
# Small data: few shuffle partitions, and no code generation (compiling the wide per-unit
# aggregation costs more than it saves on a few thousand rows).
TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.codegen.wholeStage": "false",
    "spark.default.parallelism": "2",
}

COUNTRIES = ["CN", "SG", "US", "DE", "BR"]
PLATFORMS = ["ios", "android", "web"]
# The attribute keys the sources declare as segments (the others, user_id and profile, are
# not segments in the built-in engine either).
SEGMENTS = ("country", "platform", "is_new_user")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    # py4j says goodbye at interpreter exit, after pytest has closed the captured streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = spark_session(SESSION, TEST_CONF)
    yield session
    session.stop()


def _metrics() -> list[tuple[Any, str]]:
    return [
        (metric("sp_conv", event="purchase", window_hours=24), "primary"),
        (
            metric(
                "sp_arpu",
                "mean",
                event="purchase",
                value_field="revenue",
                winsorize_percentile=95.0,
            ),
            "secondary",
        ),
        (metric("sp_items", "mean", event="purchase", value_field="items"), "secondary"),
        (
            metric(
                "sp_aov",
                "ratio",
                event="",
                numerator={"event": "purchase", "value_field": "revenue"},
                denominator={"event": "purchase", "value_field": None},
                winsorize_percentile=90.0,
            ),
            "secondary",
        ),
        (metric("sp_d1", "retention", event="app_open", retention_day=1), "secondary"),
        (metric("sp_d7", "retention", event="app_open", retention_day=7), "secondary"),
        (
            metric("sp_refund", event="refund", higher_is_better=False, window_hours=72),
            "guardrail",
        ),
        # The operations teams' types and event filters (docs/metrics.md).
        (metric("sp_repeat_all", "count_threshold", min_events=2), "secondary"),
        (
            metric(
                "sp_repeat",
                "count_threshold",
                min_events=2,
                among_converted=True,
                filter={"items": {"$gte": 2}},
            ),
            "secondary",
        ),
        (
            metric(
                "sp_arppu",
                "conditional_mean",
                value_field="revenue",
                filter={"coupon": {"$in": ["NEW10", "SUMMER"]}},
                winsorize_percentile=95.0,
            ),
            "secondary",
        ),
        (metric("sp_days", "distinct_days", event="app_open", window_hours=96), "secondary"),
        (
            metric(
                "sp_coupon",
                filter={
                    "$or": [{"coupon": "NEW10"}, {"vip": True}],
                    "channel": {"$ne": "store"},
                    "note": {"$exists": False},
                },
            ),
            "secondary",
        ),
        (
            metric(
                "sp_aov_app",
                "ratio",
                event="",
                numerator={
                    "event": "purchase",
                    "value_field": "revenue",
                    "filter": {"$not": {"channel": "store"}},
                },
                denominator={
                    "event": "purchase",
                    "value_field": None,
                    "filter": {"items": 1, "coupon": {"$nin": ["SUMMER"]}},
                },
            ),
            "secondary",
        ),
    ]


def _populate(exp: Experiment, *, units: int, seed: int) -> None:
    """Exposures and events exercising every rule of docs/analysis.md: windows, CUPED's
    pre-period, retention maturity, JSON and column values, exclusions, late rows."""
    rng = random.Random(seed)
    d = Data(exp)
    variants = ("control", "b", "c")
    for i in range(units):
        unit = f"u{i}"
        at = T0 + rng.uniform(0, 5) * DAY + rng.randrange(1_000_000) * US
        attrs: dict[str, Any] = {
            "country": COUNTRIES[i % len(COUNTRIES)],
            "platform": PLATFORMS[(i // 5) % len(PLATFORMS)],
            "is_new_user": i % 3 == 0,
            "user_id": unit,
            "profile": {"age": 30},
        }
        d.expose(unit, variants[i % 3], at, attributes=attrs)
        lift = 1.0 + 0.15 * (i % 3)
        for _ in range(rng.randrange(0, 5)):
            ts = at + rng.uniform(-3, 9) * DAY
            revenue = round(rng.expovariate(1 / 30) * lift, 2)
            props: dict[str, Any] = {
                "items": rng.randrange(1, 4),
                "channel": rng.choice(["app", "web", "store"]),
                "vip": rng.random() < 0.3,
            }
            coupon = rng.choice(["NEW10", "SUMMER", None])
            if coupon is not None:
                props["coupon"] = coupon
            if rng.random() < 0.1:
                props["note"] = None
            kind = rng.random()
            if kind < 0.5:
                props["revenue"] = revenue  # a JSON number: used
            elif kind < 0.7:
                props["revenue"] = str(revenue)  # a JSON string: the value column counts
            d.event(unit, ts, "purchase", value=revenue * 1.01, properties=props)
        for day in range(0, 9):
            if rng.random() < 0.35 * lift:
                d.event(unit, at + day * DAY + rng.uniform(0, 23.9) * HOUR, "app_open")
        if rng.random() < 0.1:
            d.event(unit, at + rng.uniform(0, 3) * DAY, "refund")
        if i % 17 == 0:
            # Boundaries: at exposure (counted), at the end of the window (not counted),
            # just before exposure (pre-period), after as_of (never counted).
            d.event(unit, at, "purchase", value=5.0)
            d.event(unit, at + 24 * HOUR, "purchase", value=7.0)
            d.event(unit, at - US, "purchase", value=11.0)
            d.event(unit, AS_OF + US, "purchase", value=13.0)
        if i % 23 == 0:
            # The same purchase reported twice under two event ids: both count, everywhere.
            ts = at + 2 * HOUR
            d.event(unit, ts, "purchase", value=9.5).event(unit, ts, "purchase", value=9.5)
    # Excluded from the analysis: forced units, units in several variants, late exposures.
    for i in range(3):
        d.expose(f"forced{i}", "b", T0 + HOUR, forced=True, attributes={"country": "CN"})
        d.event(f"forced{i}", T0 + 2 * HOUR, "purchase", value=100.0)
        d.expose(f"multi{i}", "c", T0 + HOUR, multiple=True)
        d.event(f"multi{i}", T0 + 2 * HOUR, "purchase", value=100.0)
    d.expose("late", "control", AS_OF + US, attributes={"country": "CN"})
    d.event("late", AS_OF + 2 * US, "purchase", value=100.0)
    d.event("stranger", T0 + HOUR, "purchase", value=100.0)  # never exposed
    d.save()


def _experiment(*, units: int = 240, seed: int = 7) -> Experiment:
    exp = experiment_with(_metrics(), variants=("control", "b", "c"), cuped=True)
    _populate(exp, units=units, seed=seed)
    return exp


def _lake_extras(exp: Experiment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows only the lake holds, which the Spark engine must leave out: another experiment's
    and another phase's exposures of the same units, and events delivered twice."""
    from tests.analysis.warehouse.lake import event_rows, exposure_rows

    exposures = []
    for row in exposure_rows()[:40]:
        exposures.append({**row, "experiment": "another-experiment", "variant": "control"})
        exposures.append({**row, "phase": row["phase"] + 1, "variant": "b"})
    events = [dict(row) for row in event_rows()[::7]]
    return exposures, events


def _source(root: Path, exp: Experiment) -> SparkSource:
    extra_exposures, extra_events = _lake_extras(exp)
    exposures, events = write_lake(root, extra_exposures=extra_exposures, extra_events=extra_events)
    return SparkSource(
        session_url=SESSION,
        exposures=f"parquet.`{exposures}`",
        events=f"parquet.`{events}`",
        options=TEST_CONF,
        segments=SEGMENTS,
    )


def assert_close(a: Any, b: Any, path: str = "") -> None:
    """Equal structures; numbers equal to ``REL`` relative (exactly for integers)."""
    if isinstance(a, dict):
        assert isinstance(b, dict), path
        assert set(a) == set(b), f"{path}: keys {sorted(set(a) ^ set(b))}"
        for key in a:
            assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: {a} != {b}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, bool) or a is None or isinstance(a, str):
        assert a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, int) and isinstance(b, int):
        assert a == b, f"{path}: {a} != {b}"
    else:
        assert isinstance(b, int | float) and not isinstance(b, bool), f"{path}: {b!r}"
        assert math.isclose(float(a), float(b), rel_tol=REL, abs_tol=1e-300), (
            f"{path}: {a!r} != {b!r}"
        )


def _json(value: Any) -> Any:
    """Inputs (typed, or already JSON) as the database stores them."""
    if isinstance(value, SnapshotInputs):
        value = value.to_dict()
    return json.loads(json.dumps(value))


def _results(exp: Experiment, inputs: dict[str, Any]) -> dict[str, Any]:
    return results_compute(
        inputs=_json(inputs),
        plan=experiment_plan(exp),
        computed_at=AS_OF.isoformat(),
        engine_version=ENGINE_VERSION,
    )


def _p_values(results: Any) -> list[float]:
    found: list[float] = []
    if isinstance(results, dict):
        for key, value in results.items():
            if key == "p_value" and isinstance(value, float):
                found.append(value)
            else:
                found += _p_values(value)
    elif isinstance(results, list):
        for value in results:
            found += _p_values(value)
    return found


def test_spark_inputs__every_metric_and_rule__equal_builtin_inputs_and_p_values(
    spark: Any, tmp_path: Path
) -> None:
    exp = _experiment()
    builtin = _json(experiment_inputs(experiment=exp, as_of=AS_OF))
    on_spark = _json(spark_inputs(experiment=exp, as_of=AS_OF, source=_source(tmp_path, exp)))

    assert_close(builtin, on_spark)
    # The scenario is what it says: every variant analysed, exclusions counted, D7 immature
    # for late units, winsorization caps and CUPED sums present, segments computed.
    assert sum(on_spark["units"].values()) == 240
    # Exposures over five days from noon: six UTC days, every analysed unit counted once.
    assert len(on_spark["units_by_day"]) == 6
    assert sum(n for day in on_spark["units_by_day"].values() for n in day.values()) == 240
    assert on_spark["excluded"] == {"forced": 3, "multiple_variants": 3, "total": 6}
    metrics = {m["metric"]: m for m in on_spark["metrics"]}
    assert sum(metrics["sp_d7"]["immature_units"].values()) > 0
    assert set(metrics["sp_arpu"]["caps"]) == {"value", "pre"}
    assert set(metrics["sp_aov"]["caps"]) == {"numerator"}
    assert metrics["sp_arpu"]["cuped"] and metrics["sp_arpu"]["stats"]["b"]["pre_sum"] > 0
    assert {s["attribute"] for s in on_spark["segments"]} == {
        "country",
        "platform",
        "is_new_user",
    }

    spark_results, builtin_results = _results(exp, on_spark), _results(exp, builtin)
    assert_close(builtin_results, spark_results)
    p_values = _p_values(spark_results)
    assert len(p_values) >= 26  # two comparisons for each of thirteen metrics
    # The new types and filters are not vacuous: each has units that count and units that do not.
    for key in ("sp_repeat_all", "sp_coupon"):
        assert 0 < metrics[key]["stats"]["b"]["conversions"] < metrics[key]["stats"]["b"]["n"]
    for key in ("sp_repeat", "sp_arppu", "sp_aov_app"):
        stats = metrics[key]["stats"]["b"]
        assert stats["denominator_sum"] > 0 and stats["numerator_sum"] > 0, key
    assert metrics["sp_days"]["stats"]["b"]["sum"] > metrics["sp_days"]["stats"]["b"]["n"]
    assert all(0.0 <= p <= 1.0 for p in p_values)


def _mapped_source(root: Path) -> SparkSource:
    """A team's own tables: relations given as SELECTs, columns under other names, and no
    forced / multiple-variant flags at all (they count as false)."""
    exposures, events = write_lake(root)
    return SparkSource(
        session_url=SESSION,
        exposures=(
            "SELECT unit_id AS user_key, experiment AS exp_key, variant AS arm, phase,"
            " first_exposed_at AS seen_at, attributes AS traits"
            f" FROM parquet.`{exposures}` WHERE NOT forced AND NOT multiple_variants"
        ),
        events=(
            "SELECT event_id AS id, unit_id AS user_key, event AS name, timestamp AS at,"
            f" value AS amount, properties AS props FROM parquet.`{events}`"
        ),
        exposure_columns={
            "unit_id": "user_key",
            "experiment": "exp_key",
            "variant": "arm",
            "first_exposed_at": "seen_at",
            "attributes": "traits",
        },
        event_columns={
            "event_id": "id",
            "unit_id": "user_key",
            "event": "name",
            "timestamp": "at",
            "value": "amount",
            "properties": "props",
        },
        options=TEST_CONF,
        segments=SEGMENTS,
    )


def test_spark_run__ten_times_the_units__driver_collects_the_same_rows(
    spark: Any, tmp_path: Path
) -> None:
    """Spark returns per-variant and per-segment sums only: the rows the driver collects do
    not grow with the number of units or events. The larger run reads the lake through
    SELECT mappings with renamed columns, and still equals the built-in engine."""
    from assignment.models import Event

    small = _experiment(units=60, seed=60)
    _, small_run = spark_run(
        experiment=small, as_of=AS_OF, source=_source(tmp_path / "small", small), spark=spark
    )
    Experiment.objects.filter(pk=small.pk).delete()
    Event.objects.all().delete()

    large = _experiment(units=600, seed=600)
    large_inputs, large_run = spark_run(
        experiment=large, as_of=AS_OF, source=_mapped_source(tmp_path / "large"), spark=spark
    )
    builtin = _json(experiment_inputs(experiment=large, as_of=AS_OF))
    large_inputs = _json(large_inputs)
    # The mapped relation leaves the excluded units out, so only their counts differ.
    assert large_inputs["excluded"] == {"forced": 0, "multiple_variants": 0, "total": 0}
    large_inputs["excluded"] = builtin["excluded"]
    assert_close(builtin, large_inputs)
    assert sum(large_inputs["units"].values()) == 600

    assert small_run.queries == large_run.queries
    assert small_run.collected_rows == large_run.collected_rows
    # The largest result: the per-segment sums, a row per variant and declared segment value it
    # has: 3 variants x (5 countries + 3 platforms) + 3 new-user rows (the flag follows the
    # variant here). Undeclared attributes (user_id) are not read out of Spark at all.
    assert large_run.largest_result == 3 * (5 + 3) + 3
    assert large_run.collected_rows < 100


def test_spark_inputs__relation_without_a_required_column__clear_error(
    spark: Any, tmp_path: Path
) -> None:
    exp = _experiment(units=9, seed=1)
    exposures, events = write_lake(tmp_path)
    source = SparkSource(
        session_url=SESSION,
        exposures=f"parquet.`{exposures}`",
        events=f"parquet.`{events}`",
        event_columns={"timestamp": "happened_at"},
    )
    with pytest.raises(ValueError, match="events relation has no column 'happened_at'"):
        spark_inputs(experiment=exp, as_of=AS_OF, source=source)


def test_spark_inputs__filters_on_absent_and_other_typed_properties__equal_builtin(
    spark: Any, tmp_path: Path
) -> None:
    """Typed comparisons (docs/metrics.md): an absent property, a string "7", booleans and
    nulls match the same filters on Spark as in the application database."""
    filters = {
        "sp_lt5": {"v": {"$lt": 5}},
        "sp_not_lt5": {"v": {"$not": {"$lt": 5}}},
        "sp_text": {"v": "7"},
        "sp_true": {"v": True},
        "sp_null": {"v": None},
        "sp_exists": {"v": {"$exists": True}, "w": {"$nin": ["x"]}},
        "sp_number": {"v": {"$in": [7, "true"]}},
        "sp_chinese_value": {"coupon": {"$in": ["新人券", "满减"]}},
    }
    links = [(metric(key, filter=f), "secondary") for key, f in filters.items()]
    links[0] = (links[0][0], "primary")
    exp = experiment_with(links)
    d = Data(exp)
    values: list[Any] = ["absent", None, 3, 7, 7.0, "7", True, False, "true", 1, [1], {"a": 1}]
    for i, v in enumerate(values):
        d.expose(f"t{i}", ("control", "treatment")[i % 2], T0 + i * HOUR)
        props = {} if v == "absent" else {"v": v, "w": "x" if i % 3 == 0 else "y"}
        props["coupon"] = ["新人券", "满减", "NEW10"][i % 3]
        d.event(f"t{i}", T0 + (i + 1) * HOUR, "purchase", properties=props)
    d.save()
    builtin = _json(experiment_inputs(experiment=exp, as_of=AS_OF, segments=False))
    on_spark = _json(
        spark_inputs(experiment=exp, as_of=AS_OF, source=_source(tmp_path, exp), segments=False)
    )
    assert_close(builtin["metrics"], on_spark["metrics"])
    got = {
        m["metric"]: sum(s["conversions"] for s in m["stats"].values()) for m in builtin["metrics"]
    }
    # lt5: 3 and 1 (not false: a boolean is not a number); not lt5: the ten others; the text
    # "7" once; true once; null: absent and null; exists: ten present values, three with w "x";
    # in [7, "true"]: 7, 7.0 and the string "true".
    assert got == {
        "sp_lt5": 2,
        "sp_not_lt5": 10,
        "sp_text": 1,
        "sp_true": 1,
        "sp_null": 2,
        "sp_exists": 7,
        "sp_number": 3,
        "sp_chinese_value": 8,
    }
