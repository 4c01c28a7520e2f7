"""The analysis's typed contract: snapshot inputs, results, and reading stored results.

Pure Python (no Django): the aggregation returns ``SnapshotInputs``, ``analysis.engine.analyze``
builds ``Results``, a snapshot stores their ``to_dict()``, ``results_from_stored`` reads
stored results of any schema version, and the API serves the same classes with their
OpenAPI components generated from the same fields (``analysis.engine.contract.model``).
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
from .messages import Coded
from .metrics import (
    ABSOLUTE,
    BETTER,
    METRIC_OK,
    METRIC_STATUSES,
    NOT_ENOUGH_DATA,
    NOT_SIGNIFICANT,
    OUTCOMES,
    RELATIVE,
    ROLES,
    SIGNIFICANCE_BASES,
    SRM_ERROR,
    SRM_LEVELS,
    SRM_OK,
    SRM_WARNING,
    VALUES_OUT_OF_RANGE,
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
    "ABSOLUTE",
    "BETTER",
    "INCONCLUSIVE",
    "KEEP_CONTROL",
    "KEEP_RUNNING",
    "METRIC_OK",
    "METRIC_STATUSES",
    "NOT_ENOUGH_DATA",
    "NOT_SIGNIFICANT",
    "OUTCOMES",
    "RECOMMENDATIONS",
    "RELATIVE",
    "RESULTS_SCHEMA_VERSION",
    "ROLES",
    "SHIP",
    "SIGNIFICANCE_BASES",
    "SRM_ERROR",
    "SRM_LEVELS",
    "SRM_OK",
    "SRM_WARNING",
    "VALUES_OUT_OF_RANGE",
    "WORSE",
    "Coded",
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
