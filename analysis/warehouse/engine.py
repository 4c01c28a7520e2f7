"""The Spark engine: a snapshot's inputs computed where the exposures and events live.

``spark_inputs`` returns exactly what ``analysis.aggregation.experiment_inputs`` returns for
the same exposures and events, so the rest of a refresh (statistics, snapshot, report, API)
does not know which engine ran. The experiment's definitions (variants, metrics, plan) come
from the application database; only the exposures and events are read from Spark, filtered
by experiment key and phase and grouped by variant key.

The source is checked against ``experiments.data_source_rules`` first (its session, options,
relations and segments, under this server's settings now), and a relation runs as the SQL
generated from its checked parse tree. Only the attribute keys the source declares as
segments are read out of the exposures; other attribute values never leave Spark.

The queries are the built-in engine's own (``analysis.aggregation``: defined once in
canonical SQL and emitted for Spark with sqlglot). The per-unit table is a cached Spark view
that stays in the executors; the driver collects per-variant and per-segment sums only (a
few dozen rows, whatever the number of units or events), counted in ``SparkRun``.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.aggregation.dialect import Dialect, lit, quote
from analysis.aggregation.history import history_spec
from analysis.aggregation.inputs import (
    aggregate,
    experiment_variants,
    inputs_from,
    metric_specs,
)
from analysis.aggregation.query import Scope, unit_select
from analysis.aggregation.render import render
from analysis.aggregation.source import Source
from analysis.engine.contract import SnapshotInputs
from assignment.tables import EventTable, ExposureTable
from experiments.data_source_rules import RuleViolation, errors_text, relation_checked
from experiments.models import Experiment
from experiments.services.data_sources import spark_lake_paths, spark_rule_errors

from .session import spark_session
from .source import EVENT_COLUMNS, EXPOSURE_COLUMNS, OPTIONAL_COLUMNS, SparkSource

SPARK = Dialect("spark")
# What a mapped column is read as (Spark SQL types).
_EXPOSURE_TYPES = {
    "unit_id": "STRING",
    "experiment": "STRING",
    "variant": "STRING",
    "phase": "INT",
    "first_exposed_at": "TIMESTAMP",
    "forced": "BOOLEAN",
    "multiple_variants": "BOOLEAN",
    "attributes": "STRING",
}
_EVENT_TYPES = {
    "event_id": "STRING",
    "unit_id": "STRING",
    "event": "STRING",
    "timestamp": "TIMESTAMP",
    "value": "DOUBLE",
    "properties": "STRING",
}
_DEFAULTS = {
    "forced": "FALSE",
    "multiple_variants": "FALSE",
    "attributes": "'{}'",
    "properties": "'{}'",
    "value": "CAST(NULL AS DOUBLE)",
}


@dataclass
class SparkRun:
    """What one Spark aggregation did: the queries it ran and the rows the driver collected."""

    queries: int = 0
    collected_rows: int = 0
    largest_result: int = 0
    sql: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


class SparkRunner:
    """Runs the aggregation's canonical SQL on a Spark session, counting collected rows."""

    def __init__(self, spark: Any, run: SparkRun) -> None:
        self.dialect = SPARK
        self.spark = spark
        self.run = run

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        text = render(sql, SPARK)
        self.run.sql.append(text)
        started = time.perf_counter()
        df = self.spark.sql(text)
        rows = df.collect()
        self.run.seconds.append(time.perf_counter() - started)
        self.run.queries += 1
        self.run.collected_rows += len(rows)
        self.run.largest_result = max(self.run.largest_result, len(rows))
        return list(df.columns), [tuple(r) for r in rows]


def relation_sql(relation: str, lake_paths: Sequence[str] | None = None) -> str:
    """A mapping (a table name, ``parquet.`/lake/path```, or a SELECT) as a FROM-clause item:
    the SQL generated from its checked parse tree. A ``RuleViolation`` (a ValueError) when it
    breaks the data-source rules (``lake_paths``: the server's when not given)."""
    paths = spark_lake_paths() if lake_paths is None else lake_paths
    return relation_checked(relation, paths).from_item("src")


def source_refusal(source: SparkSource) -> str | None:
    """Every rule ``source`` breaks under this server's settings now, each after its field
    (None: it may run)."""
    errors = spark_rule_errors(
        session_url=source.session_url,
        exposures=source.exposures,
        events=source.events,
        exposure_columns=source.exposure_columns,
        event_columns=source.event_columns,
        options=source.options,
        segments=list(source.segments),
    )
    return errors_text(errors) if errors else None


def _segment_attributes(ref: str, segments: Sequence[str]) -> str:
    """The attributes JSON with only the declared segment keys (values keep their JSON type)."""
    keys = ", ".join(render(lit(k), SPARK) for k in segments)
    return (
        f"TO_JSON(MAP_FILTER(FROM_JSON({ref}, 'map<string,variant>'),"
        f" (segment_key, segment_value) -> segment_key IN ({keys})))"
    )


def _column_ref(physical: str) -> str:
    return "src.`" + physical.replace("`", "``") + "`"


def _mapped_select(
    spark: Any,
    relation: str,
    columns: tuple[str, ...],
    types: dict[str, str],
    physical: dict[str, str],
    kind: str,
    segments: Sequence[str] = (),
) -> str:
    """A SELECT of ``relation`` with its columns under their logical names and types;
    optional columns it lacks get their defaults, a missing required one is an error. The
    exposures' attributes keep only the ``segments`` keys (none: ``{}``, not read at all)."""
    from_sql = relation_sql(relation)
    schema = spark.sql(f"SELECT * FROM {from_sql} LIMIT 0").schema
    have = {f.name.lower(): f.name for f in schema.fields}
    kinds = {f.name: f.dataType.simpleString() for f in schema.fields}
    parts = []
    for name in columns:
        col = physical.get(name, name)
        if name == "attributes" and not segments:
            parts.append(f"{_DEFAULTS[name]} AS `{name}`")
        elif col and col.lower() in have:
            ref = _column_ref(have[col.lower()])
            if name in {"attributes", "properties"} and kinds[have[col.lower()]] != "string":
                # A map or struct column (not JSON text) is read as its JSON.
                ref = f"TO_JSON({ref})"
            if name == "attributes":
                ref = _segment_attributes(f"CAST({ref} AS STRING)", segments)
            value = f"CAST({ref} AS {types[name]})"
            if name in _DEFAULTS:
                value = f"COALESCE({value}, {_DEFAULTS[name]})"
            parts.append(f"{value} AS `{name}`")
        elif name in OPTIONAL_COLUMNS:
            parts.append(f"{_DEFAULTS[name]} AS `{name}`")
        else:
            raise ValueError(f"the {kind} relation has no column {col!r} (for {name})")
    return f"SELECT {', '.join(parts)} FROM {from_sql}"


@dataclass(frozen=True)
class Views:
    """The temporary views one aggregation reads and writes."""

    exposures: str
    events: str
    units: str


def _register(
    spark: Any, experiment: Experiment, source: SparkSource, names: set[str] | None
) -> Views:
    tag = uuid.uuid4().hex[:12]
    views = Views(f"verdict_exposures_{tag}", f"verdict_events_{tag}", f"verdict_units_{tag}")
    exposures = _mapped_select(
        spark,
        source.exposures,
        EXPOSURE_COLUMNS,
        _EXPOSURE_TYPES,
        source.exposure_columns,
        "exposures",
        source.segments,
    )
    spark.sql(
        f"SELECT * FROM ({exposures}) AS e WHERE e.experiment = {lit(experiment.key)}"
        f" AND e.phase = {int(experiment.phase)}"
    ).createOrReplaceTempView(views.exposures)
    events = _mapped_select(
        spark, source.events, EVENT_COLUMNS, _EVENT_TYPES, source.event_columns, "events"
    )
    if names is None:  # every event (history segments)
        frame = spark.sql(f"SELECT * FROM ({events}) AS e")
    else:
        marks = ", ".join(render(lit(n), SPARK) for n in sorted(names)) or "NULL"
        frame = spark.sql(f"SELECT * FROM ({events}) AS e WHERE e.event IN ({marks})")
    # An event delivered twice (at-least-once pipelines) counts once, as in the application
    # database, where the event id is unique.
    frame.dropDuplicates(["event_id"]).createOrReplaceTempView(views.events)
    return views


def tables_for(exposures_view: str, events_view: str, units_view: str) -> tuple[Source, str]:
    """The aggregation's source over the engine's views (logical column names) and the
    per-unit view's name as SQL."""
    return _source(Views(exposures_view, events_view, units_view)), quote(units_view)


def _source(views: Views) -> Source:
    exposures = ExposureTable(
        table=views.exposures,
        id="unit_id",
        experiment="experiment",
        phase="phase",
        unit_id="unit_id",
        variant="variant",
        forced="forced",
        multiple_variants="multiple_variants",
        attributes="attributes",
        first_exposed_at="first_exposed_at",
    )
    events = EventTable(
        table=views.events,
        unit_id="unit_id",
        event="event",
        timestamp="timestamp",
        value="value",
        properties="properties",
    )
    return Source(exposures=exposures, events=events)


def _exposure_counts(runner: SparkRunner, views: Views, as_of: dt.datetime) -> dict[str, Any]:
    _, rows = runner.rows(
        "SELECT SUM(CASE WHEN forced THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN multiple_variants THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN forced OR multiple_variants THEN 1 ELSE 0 END),"
        f" MAX(VERDICT_TS(first_exposed_at)) FROM {quote(views.exposures)}"
        f" WHERE VERDICT_TS(first_exposed_at) <= {lit(as_of)}"
    )
    forced, multiple, excluded, last = rows[0]
    return {
        "n_forced": int(forced or 0),
        "n_multiple": int(multiple or 0),
        "n_excluded": int(excluded or 0),
        "last": SPARK.time_from_db(last),
    }


def spark_run(
    *,
    experiment: Experiment,
    as_of: dt.datetime,
    source: SparkSource,
    spark: Any = None,
    segments: bool = True,
) -> tuple[SnapshotInputs, SparkRun]:
    """``spark_inputs`` and what the run collected (for tests and the bench). A
    ``RuleViolation`` before anything runs when ``source`` breaks the data-source rules."""
    refusal = source_refusal(source)
    if refusal:
        raise RuleViolation(refusal)
    spark = spark if spark is not None else spark_session(source.session_url, source.options)
    metrics = metric_specs(experiment)
    variants = experiment_variants(experiment)
    names: set[str] | None = {e for m in metrics for e in m.events() if e}
    history = history_spec(experiment.history_segments)
    if history is not None:
        names = None  # a unit's history counts events of every name
    run = SparkRun()
    runner = SparkRunner(spark, run)
    views = _register(spark, experiment, source, names)
    src = _source(views)
    units = spark.sql(
        render(unit_select(src, Scope(experiment.key, experiment.phase, as_of), metrics), SPARK)
    )
    units.persist()
    try:
        units.createOrReplaceTempView(views.units)
        counts = _exposure_counts(runner, views, as_of)
        agg = aggregate(
            runner,
            src.exposures,
            quote(views.units),
            metrics,
            unit_attribute=experiment.unit_attribute,
            segments=segments,
            history=(src.events, history),
        )
    finally:
        units.unpersist()
        for view in (views.units, views.events, views.exposures):
            spark.catalog.dropTempView(view)
    inputs = inputs_from(
        experiment=experiment,
        as_of=as_of,
        variants=variants,
        variant_keys={v["key"]: v["key"] for v in variants},
        metrics=metrics,
        agg=agg,
        counts=counts,
    )
    return inputs, run


def spark_inputs(
    *, experiment: Experiment, as_of: dt.datetime, source: SparkSource, segments: bool = True
) -> SnapshotInputs:
    """The snapshot inputs of ``experiment``'s current phase up to ``as_of``, computed on
    Spark from ``source`` (the same as ``experiment_inputs`` gives)."""
    inputs, _ = spark_run(experiment=experiment, as_of=as_of, source=source, segments=segments)
    return inputs
