"""Table and column names of exposures and events, for code that reads them in raw SQL.

The names come from the models' ``_meta`` (``db_table`` and each field's ``column``), so a
renamed table or column changes here and in every query built from these names. The names
are unquoted; quote them for the database at hand where they are put into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from assignment.models import Event, Exposure


def _column(model: type[models.Model], field: str) -> str:
    return model._meta.get_field(field).column  # type: ignore[union-attr]


@dataclass(frozen=True)
class ExposureTable:
    """``assignment.Exposure``: one row per unit and experiment phase."""

    table: str
    id: str
    experiment: str
    phase: str
    unit_id: str
    variant: str
    forced: str
    multiple_variants: str
    attributes: str
    first_exposed_at: str


@dataclass(frozen=True)
class EventTable:
    """``assignment.Event``: one row per event an app reported."""

    table: str
    unit_id: str
    event: str
    timestamp: str
    value: str
    properties: str


def exposure_table() -> ExposureTable:
    """The exposure table's name and the columns analysis reads."""
    return ExposureTable(
        table=Exposure._meta.db_table,
        id=_column(Exposure, "id"),
        experiment=_column(Exposure, "experiment"),
        phase=_column(Exposure, "phase"),
        unit_id=_column(Exposure, "unit_id"),
        variant=_column(Exposure, "variant"),
        forced=_column(Exposure, "forced"),
        multiple_variants=_column(Exposure, "multiple_variants"),
        attributes=_column(Exposure, "attributes"),
        first_exposed_at=_column(Exposure, "first_exposed_at"),
    )


def event_table() -> EventTable:
    """The event table's name and the columns analysis reads."""
    return EventTable(
        table=Event._meta.db_table,
        unit_id=_column(Event, "unit_id"),
        event=_column(Event, "event"),
        timestamp=_column(Event, "timestamp"),
        value=_column(Event, "value"),
        properties=_column(Event, "properties"),
    )
