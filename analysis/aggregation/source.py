"""The exposure and event relations as the aggregation queries them.

In the application database the names come from ``assignment`` (its models' ``_meta``); a
Spark engine gives its own relations with the same logical columns. Names are quoted for
canonical SQL, with the columns qualified by the aliases the queries use.
"""

from __future__ import annotations

from dataclasses import dataclass

from assignment.tables import EventTable, ExposureTable, event_table, exposure_table

from .dialect import qualify


@dataclass(frozen=True)
class Source:
    """``exposures``/``events``: the relations' names (unquoted); ``u`` and ``ev``: quoted,
    with columns qualified by the aliases ``u`` (one row per unit) and ``ev`` (its events)."""

    exposures: ExposureTable
    events: EventTable

    @property
    def u(self) -> ExposureTable:
        return exposures_as(self.exposures, "u")

    @property
    def ev(self) -> EventTable:
        return qualify(self.events, "ev")


def source() -> Source:
    """The application database's exposures and events."""
    return Source(exposures=exposure_table(), events=event_table())


def exposures_as(exposures: ExposureTable, alias: str) -> ExposureTable:
    """The exposure relation with its columns qualified by ``alias``."""
    return qualify(exposures, alias)
