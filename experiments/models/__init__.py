from .audit import AuditLogEntry
from .data_source import DataSource, DataSourceKind
from .experiment import (
    AnalysisMethod,
    Correction,
    Decision,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    Phase,
)
from .layer import Layer
from .metric import ExperimentMetric, Metric, MetricRole, MetricType
from .variant import Override, Variant

__all__ = [
    "AnalysisMethod",
    "AuditLogEntry",
    "Correction",
    "DataSource",
    "DataSourceKind",
    "Decision",
    "Experiment",
    "ExperimentKind",
    "ExperimentMetric",
    "ExperimentStatus",
    "Layer",
    "Metric",
    "MetricRole",
    "MetricType",
    "Override",
    "Phase",
    "Variant",
]
