"""Verdict's shared vocabulary: every enumeration used across apps, defined once.

Plain Python (no Django), so the pure analysis engine uses it as the models, the results
contract, the API and the pages do. Each member is a ``str`` (``ExperimentStatus.RUNNING ==
"running"``), so stored values and JSON stay plain strings. The models' choices are made from
these enumerations (``choices``), with the English labels below; pages translate the labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol, TypeVar


class LabelledEnum(StrEnum):
    """A string enumeration whose members carry an English label."""

    label: str

    def __new__(cls, value: str, label: str = "") -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member


def choices(enum: type[LabelledEnum]) -> list[tuple[str, str]]:
    """``(value, label)`` pairs, for a model field's or a form's ``choices``."""
    return [(member.value, member.label) for member in enum]


class ExperimentKind(LabelledEnum):
    PRICING = "pricing", "Pricing"
    ONBOARDING = "onboarding", "Onboarding"
    PROMOTION = "promotion", "Promotion"
    OTHER = "other", "Other"


class ExperimentStatus(LabelledEnum):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"
    CONCLUDED = "concluded", "Concluded"
    ARCHIVED = "archived", "Archived"


# An experiment that takes no more traffic and whose data is complete: its results are final
# (a decision no longer waits for more units).
FINISHED_STATUSES = frozenset(
    {ExperimentStatus.STOPPED, ExperimentStatus.CONCLUDED, ExperimentStatus.ARCHIVED}
)


class Decision(LabelledEnum):
    """What a team decided when it concluded an experiment."""

    SHIP = "ship", "Ship a variant"
    KEEP_CONTROL = "keep_control", "Keep control"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class Recommendation(LabelledEnum):
    """What a snapshot's decision summary recommends."""

    SHIP = "ship", "Ship"
    KEEP_CONTROL = "keep_control", "Keep control"
    KEEP_RUNNING = "keep_running", "Keep running"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class Outcome(LabelledEnum):
    """A variant's result on one metric, decided once after the multiple-testing correction."""

    BETTER = "better", "Better"
    WORSE = "worse", "Worse"
    NOT_SIGNIFICANT = "not_significant", "Not significant"
    NOT_ENOUGH_DATA = "not_enough_data", "Not enough data"


class MetricType(LabelledEnum):
    CONVERSION = "conversion", "Conversion"
    MEAN = "mean", "Mean"
    RATIO = "ratio", "Ratio"
    RETENTION = "retention", "Retention"
    COUNT_THRESHOLD = "count_threshold", "Count threshold"
    CONDITIONAL_MEAN = "conditional_mean", "Conditional mean"
    DISTINCT_DAYS = "distinct_days", "Distinct active days"
    RETENTION_CURVE = "retention_curve", "Retention curve"
    VALUE_CURVE = "value_curve", "Value to date (LTV curve)"


class DisplayFormat(LabelledEnum):
    """How a metric's values are shown: a rate in % (its differences in percentage points),
    money with its currency, a count, a duration in seconds, or a plain number."""

    RATE = "rate", "Rate (%)"
    CURRENCY = "currency", "Currency"
    COUNT = "count", "Count"
    DURATION = "duration", "Duration (seconds)"
    NUMBER = "number", "Number"


# A metric's display format when none is set: rates for the share of units, numbers otherwise.
DEFAULT_DISPLAY_FORMATS = {
    MetricType.CONVERSION: DisplayFormat.RATE,
    MetricType.RETENTION: DisplayFormat.RATE,
    MetricType.MEAN: DisplayFormat.NUMBER,
    MetricType.RATIO: DisplayFormat.NUMBER,
    MetricType.COUNT_THRESHOLD: DisplayFormat.RATE,
    MetricType.CONDITIONAL_MEAN: DisplayFormat.NUMBER,
    MetricType.DISTINCT_DAYS: DisplayFormat.COUNT,
    MetricType.RETENTION_CURVE: DisplayFormat.RATE,
    MetricType.VALUE_CURVE: DisplayFormat.NUMBER,
}


def display_format_of(metric_type: str, display_format: str = "") -> DisplayFormat:
    """A metric's display format: the one set on it, else its type's default."""
    if display_format:
        return DisplayFormat(display_format)
    return DEFAULT_DISPLAY_FORMATS.get(MetricType(metric_type), DisplayFormat.NUMBER)


class MetricRole(LabelledEnum):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    GUARDRAIL = "guardrail", "Guardrail"


class HasRole(Protocol):
    @property
    def role(self) -> str: ...


Item = TypeVar("Item", bound=HasRole)


def primary_of(items: Iterable[Item]) -> Item | None:
    """The first item whose ``role`` is primary (a metric link, a metric result, a plan's
    metric), or None: the one rule for finding an experiment's primary metric."""
    return next((item for item in items if item.role == MetricRole.PRIMARY), None)
