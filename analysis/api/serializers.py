"""Output serializers of the result endpoints, mirroring ``analysis.engine.contract``.

They render a contract object's ``to_dict()`` (field for field, in the same order) and give
``/api/schema/`` the full results shape. A key the dict leaves out is left out of the output
too: the control's row has no comparison fields, and only retention metrics have
``immature_units``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analysis.engine.contract import (
    METRIC_STATUSES,
    OUTCOMES,
    RECOMMENDATIONS,
    ROLES,
    SIGNIFICANCE_BASES,
    SRM_LEVELS,
)
from analysis.engine.stats import STATUSES
from analysis.engine.stats.exact import TESTS


class OutputSerializer(serializers.Serializer):
    """Renders a dict; fields whose key the dict lacks are omitted rather than null."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if isinstance(instance, Mapping):
            return {k: v for k, v in data.items() if k in instance}
        return data


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoDateTimeField(serializers.CharField):
    """An ISO 8601 timestamp, served exactly as stored."""


def _number(help_text: str = "", *, optional: bool = False) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, required=not optional, help_text=help_text)


def _interval(help_text: str, *, optional: bool = False) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        allow_null=True,
        required=not optional,
        help_text=help_text,
    )


class VariantResultSerializer(OutputSerializer):
    """One variant of a metric or segment. The control's row has only ``variant`` to
    ``mean`` (and ``immature_units`` for retention); the other fields compare a treatment
    with the control."""

    variant = serializers.CharField()
    name = serializers.CharField()
    is_control = serializers.BooleanField()
    units = serializers.IntegerField()
    mean = _number("The arm's mean (or ratio); null when undefined.")
    effect = _number("Relative effect: (treatment - control) / |control|.", optional=True)
    ci = _interval("Interval for the relative effect at level 1 - alpha.", optional=True)
    stderr = _number(optional=True)
    p_value = _number(
        "Adjusted for multiple testing when the metric is `corrected`; null for Bayesian plans.",
        optional=True,
    )
    p_value_unadjusted = _number(optional=True)
    chance_to_win = _number("Bayesian plans only.", optional=True)
    risk = _interval(
        "Bayesian plans only: expected loss of keeping control, of shipping.", optional=True
    )
    significant = serializers.BooleanField(required=False)
    outcome = serializers.ChoiceField(
        choices=OUTCOMES,
        required=False,
        help_text="Accounts for the metric's direction: `better` is significant in the good "
        "direction.",
    )
    status = serializers.ChoiceField(
        choices=STATUSES, required=False, help_text="Anything but `ok`: not enough data."
    )
    variance_reduction = _number("CUPED's share of variance removed.", optional=True)
    absolute_effect = _number("treatment - control.", optional=True)
    absolute_ci = _interval("Interval for the absolute effect.", optional=True)
    test = serializers.ChoiceField(
        choices=TESTS,
        allow_null=True,
        required=False,
        help_text="The test behind `p_value` and `significant`: `welch` (t-test), "
        "`fisher_exact` (conversion metrics with fewer than 5 conversions or non-conversions "
        "in an arm), `confidence_sequence` (sequential plans) or `bayesian`. Null when the data "
        "supported no test.",
    )
    significance_basis = serializers.ChoiceField(
        choices=SIGNIFICANCE_BASES,
        allow_null=True,
        required=False,
        help_text="The comparison that decided `p_value`, `significant` and `outcome`: "
        "`relative`, or `absolute` when the relative effect could not be computed (`status` "
        "says why) but the difference could. Null when neither could.",
    )
    immature_units = serializers.IntegerField(
        required=False, help_text="Retention metrics only: units whose day N has not elapsed."
    )


class MetricResultSerializer(OutputSerializer):
    metric = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLES)
    higher_is_better = serializers.BooleanField()
    corrected = serializers.BooleanField(help_text="p-values adjusted for multiple testing.")
    cuped = serializers.BooleanField()
    winsorized_at = _number("The cap on per-unit values, when winsorized.")
    variants = VariantResultSerializer(many=True)
    status = serializers.ChoiceField(
        choices=METRIC_STATUSES,
        allow_null=True,
        help_text="`values_out_of_range` when some units' event values were beyond the "
        "accepted range (+-1e100) and were counted at the limit, so the figures do not describe "
        "those values; else `ok`. Null in results stored before schema version 4.",
    )
    out_of_range_units = serializers.IntegerField(
        allow_null=True,
        help_text="Units whose value reached the limit (0 when `ok`; null before version 4).",
    )


class SrmResultSerializer(OutputSerializer):
    p_value = _number()
    mismatch = serializers.BooleanField(help_text="p < 0.001: the `error` level.")
    statistic = _number()
    observed = serializers.DictField(child=serializers.IntegerField())
    expected = serializers.DictField(child=serializers.FloatField(allow_null=True))
    level = serializers.ChoiceField(
        choices=SRM_LEVELS,
        help_text="`error` at p < 0.001 (the decision is held), `warning` at p < 0.01, else `ok`.",
    )


class SegmentResultSerializer(OutputSerializer):
    attribute = serializers.CharField()
    value = serializers.CharField()
    metric = serializers.CharField()
    units = serializers.IntegerField()
    srm = SrmResultSerializer()
    variants = VariantResultSerializer(many=True)


class PowerResultSerializer(OutputSerializer):
    metric = serializers.CharField(allow_null=True)
    planned_mde = _number()
    power = serializers.FloatField()
    units_per_arm = serializers.IntegerField()
    required_units_per_arm = serializers.IntegerField(allow_null=True)
    current_mde = _number()
    planned_sample_reached = serializers.BooleanField(allow_null=True)


@extend_schema_field({"type": "object", "additionalProperties": True})
class ParamsField(serializers.DictField):
    """A coded message's values: numbers unformatted, names as keys, per code (the codes and
    their values are listed in docs/analysis.md, "Coded reasons and messages")."""


class HealthCheckSerializer(OutputSerializer):
    check = serializers.CharField()
    severity = serializers.CharField()
    condition = serializers.CharField(help_text="The same problem has the same key every time.")
    message = serializers.CharField(help_text="In English.")
    code = serializers.CharField(
        allow_null=True,
        help_text="The message as a stable code (with `params`), for showing it in another "
        "language; null in results stored before schema version 4.",
    )
    params = ParamsField(help_text="The values the coded message says (numbers unformatted).")


class CodedSerializer(OutputSerializer):
    """``analysis.engine.contract.Coded``: a sentence as a stable code and the values it says."""

    code = serializers.CharField()
    params = ParamsField(help_text="Numbers unformatted; names as keys.")


class DecisionSerializer(OutputSerializer):
    recommendation = serializers.ChoiceField(choices=RECOMMENDATIONS)
    variant = serializers.CharField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField(), help_text="In English.")
    reason_codes = CodedSerializer(
        many=True,
        help_text="`reasons` one for one as codes and values (empty in results stored before "
        "schema version 4).",
    )


class PlanSerializer(OutputSerializer):
    alpha = serializers.FloatField()
    method = serializers.CharField()
    correction = serializers.CharField(allow_null=True)
    cuped = serializers.BooleanField()
    mde = _number()
    planned_sample_size = serializers.IntegerField(allow_null=True)
    planned_duration_days = serializers.IntegerField(allow_null=True)
    guardrail_auto_pause = serializers.BooleanField(
        required=False, help_text="Present (true) only when the guardrail breaker is on."
    )
    harm_thresholds = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Guardrail metric key -> relative harm tolerated (absent: 0).",
    )


class BreakerRowSerializer(OutputSerializer):
    """``analysis.engine.contract.breaker.BreakerRow``."""

    metric = serializers.CharField()
    name = serializers.CharField()
    variant = serializers.CharField()
    higher_is_better = serializers.BooleanField()
    threshold = serializers.FloatField(help_text="Relative harm tolerated (0.05 = 5% worse).")
    basis = serializers.CharField(
        allow_null=True,
        help_text=(
            "Which always-valid interval was read: `relative`, or `absolute` when the relative "
            "effect cannot be computed; null when neither could be."
        ),
    )
    effect = _number()
    ci = _interval("Always-valid (confidence sequence) interval at the plan's alpha.")
    status = serializers.CharField(help_text="The relative comparison's status.")
    harmful = serializers.BooleanField(help_text="Worse than the threshold: pauses the run.")


class BreakerSerializer(OutputSerializer):
    """``analysis.engine.contract.breaker.BreakerResult``: the guardrail breaker's reading."""

    method = serializers.CharField(help_text="Always `sequential` (confidence sequences).")
    alpha = serializers.FloatField()
    tripped = serializers.BooleanField(help_text="Some guardrail row is harmful.")
    guardrails = BreakerRowSerializer(many=True)


class ExcludedSerializer(OutputSerializer):
    forced = serializers.IntegerField()
    multiple_variants = serializers.IntegerField()
    total = serializers.IntegerField()


class UnitsSerializer(OutputSerializer):
    total = serializers.IntegerField()
    by_variant = serializers.DictField(child=serializers.IntegerField())
    excluded = ExcludedSerializer()


class FreshnessSerializer(OutputSerializer):
    last_exposure_at = IsoDateTimeField(allow_null=True)
    last_event_at = IsoDateTimeField(allow_null=True)


class ResultsSerializer(OutputSerializer):
    """``analysis.engine.contract.Results``."""

    schema_version = serializers.IntegerField()
    experiment = serializers.CharField()
    phase = serializers.IntegerField()
    status = serializers.CharField(help_text="The experiment's status at the refresh.")
    computed_at = IsoDateTimeField()
    as_of = IsoDateTimeField(help_text="Data up to this time.")
    engine_version = serializers.CharField()
    plan = PlanSerializer()
    units = UnitsSerializer()
    events = serializers.IntegerField()
    freshness = FreshnessSerializer()
    srm = SrmResultSerializer()
    power = PowerResultSerializer()
    metrics = MetricResultSerializer(many=True)
    segments = SegmentResultSerializer(many=True)
    decision = DecisionSerializer()
    health = HealthCheckSerializer(many=True)
    breaker = BreakerSerializer(
        required=False, help_text="Present only when the plan has guardrail_auto_pause on."
    )


class LastRefreshSerializer(OutputSerializer):
    status = serializers.CharField()
    at = IsoDateTimeField()
    error = serializers.CharField()


class ResultsResponseSerializer(ResultsSerializer):
    """The latest good snapshot's results, its id, the last refresh when it failed, and the
    client exposures rejected so far."""

    snapshot_id = serializers.IntegerField()
    last_refresh = LastRefreshSerializer(
        allow_null=True, help_text="Null unless the newest refresh failed."
    )
    client_exposure_rejections = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Exposures reported by client SDKs (POST /api/v1/exposures) and rejected in "
        "the experiment's current phase, by reason (`variant_mismatch`: the unit does not hash "
        "to that variant; `not_running`: the experiment was not running). Counted now, not as "
        "of the snapshot; empty when none.",
    )


class HistoryVariantSerializer(OutputSerializer):
    variant = serializers.CharField()
    units = serializers.IntegerField()
    mean = _number()
    effect = _number()
    ci = _interval("Interval for the relative effect.")
    p_value = _number()
    chance_to_win = _number()
    significant = serializers.BooleanField(allow_null=True, help_text="Null for the control.")


class HistoryMetricSerializer(OutputSerializer):
    metric = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLES)
    variants = HistoryVariantSerializer(many=True)


class HistorySrmSerializer(OutputSerializer):
    p_value = _number()
    mismatch = serializers.BooleanField()


class HistorySnapshotSerializer(OutputSerializer):
    snapshot_id = serializers.IntegerField()
    computed_at = IsoDateTimeField()
    as_of = IsoDateTimeField()
    phase = serializers.IntegerField()
    units = serializers.IntegerField()
    srm = HistorySrmSerializer()
    decision = serializers.ChoiceField(choices=RECOMMENDATIONS)
    metrics = HistoryMetricSerializer(many=True)


class ResultsHistorySerializer(OutputSerializer):
    experiment = serializers.CharField()
    snapshots = HistorySnapshotSerializer(many=True)


class RefreshQueuedSerializer(OutputSerializer):
    experiment = serializers.CharField()
    status = serializers.CharField()
