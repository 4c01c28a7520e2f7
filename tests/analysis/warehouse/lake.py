"""Writing exposures and events as a Parquet lake (the layout of
``analysis.warehouse.source``) from the same rows the application database holds."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from assignment.models import Event, Exposure

EXPOSURE_SCHEMA = pa.schema(
    [
        ("unit_id", pa.string()),
        ("experiment", pa.string()),
        ("variant", pa.string()),
        ("phase", pa.int32()),
        ("first_exposed_at", pa.timestamp("us", tz="UTC")),
        ("forced", pa.bool_()),
        ("multiple_variants", pa.bool_()),
        ("attributes", pa.string()),
    ]
)
EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("unit_id", pa.string()),
        ("event", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("properties", pa.string()),
    ]
)


def exposure_rows() -> list[dict[str, Any]]:
    return [
        {
            "unit_id": x.unit_id,
            "experiment": x.experiment.key,
            "variant": x.variant.key,
            "phase": x.phase,
            "first_exposed_at": x.first_exposed_at,
            "forced": x.forced,
            "multiple_variants": x.multiple_variants,
            "attributes": json.dumps(x.attributes),
        }
        for x in Exposure.objects.select_related("experiment", "variant").order_by("id")
    ]


def event_rows() -> list[dict[str, Any]]:
    return [
        {
            "event_id": e.event_id,
            "unit_id": e.unit_id,
            "event": e.event,
            "timestamp": e.timestamp,
            "value": e.value,
            "properties": json.dumps(e.properties),
        }
        for e in Event.objects.order_by("id")
    ]


def write_partitioned(
    root: Path, rows: list[dict[str, Any]], schema: pa.Schema, time_column: str
) -> Path:
    """``root/date=YYYY-MM-DD/part-0.parquet`` per day of ``time_column`` (UTC)."""
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[row[time_column].astimezone(dt.UTC).date()].append(row)
    root.mkdir(parents=True, exist_ok=True)
    for day, day_rows in by_day.items():
        folder = root / f"date={day.isoformat()}"
        folder.mkdir(exist_ok=True)
        table = pa.Table.from_pylist(day_rows, schema=schema)
        pq.write_table(table, folder / f"part-{len(list(folder.iterdir()))}.parquet")
    return root


def write_lake(
    root: Path,
    *,
    extra_exposures: list[dict[str, Any]] = (),  # type: ignore[assignment]
    extra_events: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> tuple[Path, Path]:
    """The database's exposures and events (plus ``extra_*`` rows, which only the lake
    holds) as a lake under ``root``; returns the exposures and events folders."""
    exposures = write_partitioned(
        root / "exposures",
        exposure_rows() + list(extra_exposures),
        EXPOSURE_SCHEMA,
        "first_exposed_at",
    )
    events = write_partitioned(
        root / "events", event_rows() + list(extra_events), EVENT_SCHEMA, "timestamp"
    )
    return exposures, events
