"""The logical columns of a warehouse data source's exposures and events (no framework imports).

Defined here, below every app, so the data-source definitions (``experiments``) can validate a
column mapping and the analysis (``analysis.warehouse.source``, which re-exports these names)
can read it, without the definitions importing the analysis. The lake written by
``manage.py export_lake`` uses these names as its column names.
"""

from __future__ import annotations

EXPOSURE_COLUMNS = (
    "unit_id",
    "experiment",
    "variant",
    "phase",
    "first_exposed_at",
    "forced",
    "multiple_variants",
    "attributes",
)
EVENT_COLUMNS = ("event_id", "unit_id", "event", "timestamp", "value", "properties")
# Columns a mapping may leave out: the flags count as false, attributes and properties as {}.
OPTIONAL_COLUMNS = frozenset({"forced", "multiple_variants", "attributes", "properties", "value"})
