"""The exposure and event tables as the aggregation queries them: names from ``assignment``
(its models' ``_meta``), quoted, with the columns qualified by the aliases the queries use."""

from __future__ import annotations

from dataclasses import dataclass

from assignment.tables import EventTable, ExposureTable, event_table, exposure_table

from .dialect import Dialect


@dataclass(frozen=True)
class Source:
    """``u``: the exposures (one row per unit), ``ev``: the events joined to them."""

    u: ExposureTable
    ev: EventTable


def source(d: Dialect) -> Source:
    return Source(u=d.qualify(exposure_table(), "u"), ev=d.qualify(event_table(), "ev"))


def exposures_as(d: Dialect, alias: str) -> ExposureTable:
    """The exposure table with its columns qualified by ``alias``."""
    return d.qualify(exposure_table(), alias)
