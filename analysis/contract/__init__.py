"""The analysis's typed contract: snapshot inputs, results, and reading stored results.

Pure Python (no Django): the results services build these types, ``ResultSnapshot.results``
stores their ``to_dict()``, the API's output serializers mirror them, and
``results_from_stored`` reads stored results of any schema version.
"""

from .inputs import (
    Excluded,
    Freshness,
    MetricInputs,
    Plan,
    SegmentInputs,
    SnapshotInputs,
    VariantSpec,
)
from .metrics import (
    BETTER,
    NOT_ENOUGH_DATA,
    NOT_SIGNIFICANT,
    OUTCOMES,
    ROLES,
    WORSE,
    MetricResult,
    SegmentResult,
    SrmResult,
    VariantResult,
)
from .results import (
    INCONCLUSIVE,
    KEEP_CONTROL,
    KEEP_RUNNING,
    RECOMMENDATIONS,
    RESULTS_SCHEMA_VERSION,
    SHIP,
    Decision,
    HealthCheck,
    PowerResult,
    Results,
    UnitsResult,
)
from .versions import UnknownSchemaVersion, results_from_stored, results_upgrade

__all__ = [
    "BETTER",
    "INCONCLUSIVE",
    "KEEP_CONTROL",
    "KEEP_RUNNING",
    "NOT_ENOUGH_DATA",
    "NOT_SIGNIFICANT",
    "OUTCOMES",
    "RECOMMENDATIONS",
    "RESULTS_SCHEMA_VERSION",
    "ROLES",
    "SHIP",
    "WORSE",
    "Decision",
    "Excluded",
    "Freshness",
    "HealthCheck",
    "MetricInputs",
    "MetricResult",
    "Plan",
    "PowerResult",
    "Results",
    "SegmentInputs",
    "SegmentResult",
    "SnapshotInputs",
    "SrmResult",
    "UnitsResult",
    "UnknownSchemaVersion",
    "VariantResult",
    "VariantSpec",
    "results_from_stored",
    "results_upgrade",
]
