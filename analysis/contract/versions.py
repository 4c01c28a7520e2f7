"""Reading stored results of any schema version into the current typed ``Results``.

- Version 1 (no ``schema_version`` key): results stored before the typed contract. Same
  shape as version 2, except that the earliest snapshots lack ``absolute_effect`` /
  ``absolute_ci`` on variants (read as null) and ``units.excluded.total`` (read as forced +
  multiple variants, which were counted disjointly then).
- Version 2: ``schema_version: 2``, read by ``Results.from_dict``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from .results import RESULTS_SCHEMA_VERSION, Results


class UnknownSchemaVersion(ValueError):
    """Stored results of a schema version this code cannot read (written by a newer one)."""


def _upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    for metric in [*data.get("metrics", []), *data.get("segments", [])]:
        for row in metric.get("variants", []):
            if not row.get("is_control"):
                row.setdefault("absolute_effect", None)
                row.setdefault("absolute_ci", None)
    excluded = data.get("units", {}).get("excluded")
    if excluded is not None and excluded.get("total") is None:
        excluded["total"] = int(excluded.get("forced", 0)) + int(
            excluded.get("multiple_variants", 0)
        )
    data["schema_version"] = 2
    return data


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_1_to_2}


def stored_schema_version(data: Mapping[str, Any]) -> int:
    """The schema version of stored results (1 when the key is absent)."""
    return int(data.get("schema_version", 1))


def results_upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored results as a dict of the current schema version (the input is not changed)."""
    version = stored_schema_version(data)
    if version > RESULTS_SCHEMA_VERSION or (
        version < RESULTS_SCHEMA_VERSION and version not in UPGRADES
    ):
        raise UnknownSchemaVersion(
            f"results schema version {version} cannot be read (this Verdict reads versions 1 "
            f"to {RESULTS_SCHEMA_VERSION})"
        )
    out = copy.deepcopy(dict(data))
    while version < RESULTS_SCHEMA_VERSION:
        out = UPGRADES[version](out)
        version = stored_schema_version(out)
    return out


def results_from_stored(data: Mapping[str, Any]) -> Results:
    """Typed results from a ``ResultSnapshot.results`` of any readable schema version."""
    return Results.from_dict(results_upgrade(data))
