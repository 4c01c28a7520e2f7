"""Every code the engine writes for a decision reason, a health message or a breaker message
(pure).

A result never stores a sentence: it stores a code from these lists with its raw values
(``analysis.engine.contract.Coded``), and ``analysis.words`` turns the code into words in the
reader's language. The values each code carries are listed in docs/analysis.md, "Coded
reasons and messages". Codes are stored in snapshots, so a code is never renamed or reused
for another sentence: add a new one instead.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """A reason of the decision summary (``analysis.engine.decision``)."""

    SRM_WARNING = "srm_warning"
    SRM_ERROR = "srm_error"
    NO_PRIMARY = "no_primary"
    NOT_ENOUGH_DATA = "not_enough_data"
    VARIANT_BETTER = "variant_better"
    NO_GUARDRAIL_WORSE = "no_guardrail_worse"
    VARIANT_WORSE = "variant_worse"
    IMPROVES_BUT = "improves_but"
    GUARDRAIL_WORSE = "guardrail_worse"
    GUARDRAIL_INTERVAL_HARMFUL = "guardrail_interval_harmful"
    INCONCLUSIVE_REACHED = "inconclusive_reached"
    INCONCLUSIVE_STOPPED = "inconclusive_stopped"
    NO_DIFFERENCE_YET = "no_difference_yet"
    NO_PLAN = "no_plan"
    PLANNED_SAMPLE_PROGRESS = "planned_sample_progress"
    REQUIRED_SAMPLE_PROGRESS = "required_sample_progress"
    PLANNED_DURATION_RUNNING = "planned_duration_running"
    SEGMENT_SRM_ERROR = "segment_srm_error"


class HealthCode(StrEnum):
    """A health check's message (``analysis.engine.health``)."""

    SRM_WARNING = "srm_warning"
    SRM_ERROR = "srm_error"
    NO_EXPOSURES_AT_ALL = "no_exposures_at_all"
    NO_EXPOSURES = "no_exposures"
    GUARDRAIL_LOSS = "guardrail_loss"
    UNDERPOWERED_PLAN = "underpowered_plan"
    UNDERPOWERED_SAMPLE = "underpowered_sample"
    MULTIPLE_EXPOSURES = "multiple_exposures"
    VALUES_OUT_OF_RANGE = "values_out_of_range"
    SEGMENT_SRM_WARNING = "segment_srm_warning"
    SEGMENT_SRM_ERROR = "segment_srm_error"
    DAY_SRM_WARNING = "day_srm_warning"


class BreakerCode(StrEnum):
    """What the guardrail circuit breaker says (``analysis.engine.breaker_rule``): the pause's
    reason in the audit log, and the owner's notice of one harmful row."""

    PAUSED = "breaker_paused"
    NOTICE = "breaker_notice"
