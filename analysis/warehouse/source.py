"""Where a ``spark`` data source's exposures and events are read from (plain values, no ORM).

A mapping names a table (``lake.exposures``, ``parquet.`/data/lake/exposures```) or is a SQL
``SELECT``; the column maps translate Verdict's logical column names to the physical ones. The
lake written by ``manage.py export_lake`` uses the logical names themselves:

``exposures/date=YYYY-MM-DD/*.parquet``
    unit_id string, experiment string (the experiment key), variant string (the variant key),
    phase int, first_exposed_at timestamp (UTC), forced boolean, multiple_variants boolean,
    attributes string (a JSON object).
``events/date=YYYY-MM-DD/*.parquet``
    event_id string, unit_id string, event string, timestamp timestamp (UTC), value double
    (null when the event has none), properties string (a JSON object).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The column lists live in core (the data-source definitions validate mappings against them
# and may not import analysis); re-exported here as part of the engine/export contract.
from core.warehouse_columns import EVENT_COLUMNS, EXPOSURE_COLUMNS, OPTIONAL_COLUMNS

__all__ = ["EVENT_COLUMNS", "EXPOSURE_COLUMNS", "OPTIONAL_COLUMNS", "SparkSource"]


@dataclass(frozen=True)
class SparkSource:
    """A Spark session and the two relations an analysis reads.

    ``session_url``: ``local[*]`` / ``local[N]``, a master URL (``spark://host:7077``) or a
    Spark Connect URL (``sc://host:15002``). ``options``: Spark configuration (may hold
    secrets: never logged, never shown back). ``segments``: the attribute keys read out of
    Spark for segment breakdowns (none by default; other attribute values stay in Spark).
    The engine checks all of it against ``experiments.data_source_rules`` before it runs.
    """

    session_url: str
    exposures: str
    events: str
    exposure_columns: dict[str, str] = field(default_factory=dict)
    event_columns: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    segments: tuple[str, ...] = ()

    def exposure_column(self, name: str) -> str:
        """The physical column holding the logical exposure column ``name``."""
        return self.exposure_columns.get(name, name)

    def event_column(self, name: str) -> str:
        """The physical column holding the logical event column ``name``."""
        return self.event_columns.get(name, name)

    def __repr__(self) -> str:
        # Options, and a Spark Connect URL's parameters (``sc://host:15002/;token=...``), may
        # hold secrets: shown is the URL up to its parameters.
        where = self.session_url.split(";", 1)[0].rstrip("/")
        return f"SparkSource(session_url={where!r}, exposures=..., events=...)"
