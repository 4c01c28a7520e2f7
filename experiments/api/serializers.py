"""Input and output shapes of the control-plane API. Rules live in the services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api_fields import (
    BoundedJSONField,
    ClosedSerializer,
    JSONObjectField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictRegexField,
    StrictSlugField,
    WholeInPatch,
)
from core.limits import MAX_JSON_DEPTH, MAX_STORED_INT, MAX_WEIGHT, MAX_WEIGHT_TEXT
from experiments.models import (
    AnalysisMethod,
    Correction,
    Decision,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
    Metric,
    MetricRole,
    MetricType,
)
from experiments.models.metric import DisplayFormat
from experiments.services.experiments import MAX_EXPECTED_EFFECT_LENGTH, MAX_LEARNINGS_LENGTH
from experiments.services.lifecycle import TRANSITIONS, allowed_actions
from experiments.services.metrics import FIELDS as METRIC_FIELDS

ATTRIBUTE_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
# Every action ``allowed_actions`` can name: the transitions, and new-phase for live experiments.
LIFECYCLE_ACTIONS = [*TRANSITIONS, "new-phase"]


WEIGHT_HELP = (
    f"Relative weight: a number above 0 and at most {MAX_WEIGHT_TEXT}; each variant gets "
    "weight / (sum of the weights) of the units."
)


@extend_schema_field(
    {
        "type": "number",
        "format": "double",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": MAX_WEIGHT,
    }
)
class WeightField(StrictFloatField):
    """A variant weight. The range (above 0, at most ``MAX_WEIGHT``) is the services' rule
    (``check_variants``, new phases), which words its message per variant; the schema shows
    it."""


class VariantInput(WholeInPatch):
    key = StrictSlugField(max_length=64)
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    weight = WeightField(required=False, default=1.0, help_text=WEIGHT_HELP)
    is_control = StrictBooleanField(required=False, default=False)
    payload = BoundedJSONField(
        required=False,
        default=dict,
        help_text=(
            'Any JSON the app acts on, e.g. {"plan": "pro"}, nested at most '
            f"{MAX_JSON_DEPTH} levels deep."
        ),
    )
    description = StrictCharField(required=False, allow_blank=True, default="")


class MetricLinkInput(WholeInPatch):
    metric = StrictSlugField(max_length=64)
    role = serializers.ChoiceField(choices=MetricRole.values)
    harm_threshold = StrictFloatField(
        required=False,
        allow_null=True,
        min_value=0.0,
        max_value=10.0,
        help_text=(
            "Guardrails only: the relative harm (0.05 = 5% worse) beyond which the guardrail "
            "circuit breaker pauses the experiment; null or absent means any harm."
        ),
    )


class PlanInput(serializers.Serializer):
    alpha = StrictFloatField(required=False, min_value=0.0001, max_value=0.4999)
    method = serializers.ChoiceField(choices=AnalysisMethod.choices, required=False)
    correction = serializers.ChoiceField(choices=Correction.choices, required=False)
    cuped = StrictBooleanField(required=False)
    mde = StrictFloatField(required=False, allow_null=True, min_value=1e-9)
    guardrail_auto_pause = StrictBooleanField(
        required=False,
        help_text=(
            "Pause the experiment at a refresh when a guardrail is worse than its harm "
            "threshold with always-valid evidence (default false)."
        ),
    )
    history_segments = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=(
            'Segments from each unit\'s history before exposure: {"kinds": ["new_vs_returning", '
            '"rfm", "spend_tier"], "days": 30, "value_event": "purchase", '
            '"value_field": "revenue", "new_attribute": "is_new"}; {} for none '
            "(docs/analysis.md)."
        ),
    )
    segment_correction = serializers.ChoiceField(
        choices=Correction.choices,
        required=False,
        help_text="The correction of segment p-values across one dimension's segments.",
    )


class ExperimentInput(ClosedSerializer):
    key = StrictSlugField(max_length=64)
    name = StrictCharField(max_length=200)
    hypothesis = StrictCharField(required=False, allow_blank=True)
    expected_effect = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=MAX_EXPECTED_EFFECT_LENGTH,
        help_text="The effect expected when it was designed, e.g. “+5% paid conversion”.",
    )
    learnings = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=MAX_LEARNINGS_LENGTH,
        help_text="What was learned and what to do next; shown on the readout.",
    )
    kind = serializers.ChoiceField(choices=ExperimentKind.choices, required=False)
    owner = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=150,
        help_text="The owner's username (an active user); the creator when left out.",
    )
    coverage = StrictFloatField(required=False, min_value=0.0, max_value=1.0)
    salt = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=128)
    unit_attribute = StrictRegexField(ATTRIBUTE_NAME, required=False)
    layer = StrictSlugField(required=False, allow_null=True, allow_blank=True)
    layer_share = StrictFloatField(required=False, min_value=0.0001, max_value=1.0)
    data_source = StrictSlugField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=(
            "The key of the data source exposures and events are read from; null: the "
            "application database. Fixed once the experiment has started."
        ),
    )
    targeting = JSONObjectField(
        required=False,
        help_text=(
            'MongoDB-style conditions on attributes, e.g. {"country": {"$in": ["CN"]}}, nested '
            f"at most {MAX_JSON_DEPTH} levels deep."
        ),
    )
    variants = VariantInput(many=True, required=False)
    metrics = MetricLinkInput(many=True, required=False)
    analysis_plan = PlanInput(required=False)
    scheduled_start_at = serializers.DateTimeField(required=False, allow_null=True)
    scheduled_stop_at = serializers.DateTimeField(required=False, allow_null=True)
    planned_sample_size = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_STORED_INT
    )
    planned_duration_days = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_STORED_INT
    )
    refresh_minutes = StrictIntegerField(required=False, min_value=1, max_value=10080)

    not_writable = {
        "status": (
            "Read-only: the status changes with the lifecycle actions (POST .../start, pause, "
            "resume, stop, conclude, archive)."
        ),
        "phase": "Read-only: a new phase starts with POST .../new-phase.",
    }

    def validate_targeting(self, value: Any) -> Any:
        return {} if value is None else value


class VariantOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    weight = serializers.FloatField()
    is_control = serializers.BooleanField()
    payload = serializers.JSONField()
    description = serializers.CharField()


class MetricLinkOutput(serializers.Serializer):
    metric = serializers.CharField(help_text="The metric's key.")
    role = serializers.ChoiceField(choices=MetricRole.values)
    harm_threshold = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Guardrail links only: the relative harm the circuit breaker tolerates.",
    )


class PlanOutput(serializers.Serializer):
    alpha = serializers.FloatField()
    method = serializers.ChoiceField(choices=AnalysisMethod.choices)
    correction = serializers.ChoiceField(choices=Correction.choices)
    cuped = serializers.BooleanField()
    mde = serializers.FloatField(allow_null=True)
    guardrail_auto_pause = serializers.BooleanField()
    history_segments = serializers.JSONField(
        required=False, help_text="Present when history segments are chosen."
    )
    segment_correction = serializers.ChoiceField(
        choices=Correction.choices, required=False, help_text="Present when not `none`."
    )


class ConclusionOutput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    winner = serializers.CharField(allow_null=True, help_text="The shipped variant's key.")
    review = serializers.CharField()
    concluded_at = serializers.DateTimeField(allow_null=True)


class ExperimentOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    hypothesis = serializers.CharField()
    expected_effect = serializers.CharField()
    learnings = serializers.CharField()
    kind = serializers.ChoiceField(choices=ExperimentKind.choices)
    status = serializers.ChoiceField(choices=ExperimentStatus.choices)
    owner = serializers.SerializerMethodField()
    salt = serializers.CharField(source="hash_seed")
    phase = serializers.IntegerField()
    coverage = serializers.FloatField()
    unit_attribute = serializers.CharField()
    layer = serializers.SerializerMethodField()
    layer_share = serializers.FloatField()
    data_source = serializers.SerializerMethodField()
    layer_range = serializers.SerializerMethodField()
    targeting = JSONObjectField()
    variants = VariantOutput(many=True, source="variants.all")
    metrics = serializers.SerializerMethodField()
    analysis_plan = serializers.SerializerMethodField()
    scheduled_start_at = serializers.DateTimeField(allow_null=True)
    scheduled_stop_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    planned_sample_size = serializers.IntegerField(allow_null=True)
    planned_duration_days = serializers.IntegerField(allow_null=True)
    refresh_minutes = serializers.IntegerField()
    conclusion = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_owner(self, obj: Experiment) -> str | None:
        return obj.owner.get_username() if obj.owner_id else None

    def get_layer(self, obj: Experiment) -> str | None:
        return obj.layer.key if obj.layer_id else None

    def get_data_source(self, obj: Experiment) -> str | None:
        """The data source's key; null: the application database (builtin)."""
        return obj.data_source.key if obj.data_source_id else None

    def get_layer_range(self, obj: Experiment) -> list[float] | None:
        return None if obj.layer_start is None else [obj.layer_start, obj.layer_end]

    @extend_schema_field(MetricLinkOutput(many=True))
    def get_metrics(self, obj: Experiment) -> list[dict[str, Any]]:
        return [
            {"metric": link.metric.key, "role": link.role}
            | ({"harm_threshold": link.harm_threshold} if link.role == MetricRole.GUARDRAIL else {})
            for link in obj.metric_links.all()
        ]

    @extend_schema_field(PlanOutput)
    def get_analysis_plan(self, obj: Experiment) -> dict[str, Any]:
        return obj.analysis_plan

    @extend_schema_field(ConclusionOutput(allow_null=True))
    def get_conclusion(self, obj: Experiment) -> dict[str, Any] | None:
        if not obj.decision:
            return None
        return {
            "decision": obj.decision,
            "winner": obj.winner.key if obj.winner_id else None,
            "review": obj.conclusion_review,
            "concluded_at": obj.concluded_at,
        }

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=LIFECYCLE_ACTIONS),
            help_text="The lifecycle actions the current status allows.",
        )
    )
    def get_allowed_actions(self, obj: Experiment) -> list[str]:
        return allowed_actions(obj.status)


class ExperimentStartOutput(ExperimentOutput):
    """The started experiment, and what the caller should know that did not stop the start."""

    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "Live experiments of the same kind on the same unit attribute, outside a shared "
            "layer, whose targeting can match the same units (also in the start's audit entry). "
            "Empty when there are none."
        ),
    )


class ConcludeInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    winner = StrictSlugField(required=False, allow_null=True, allow_blank=True)
    review = StrictCharField(required=False, allow_blank=True, default="")
    learnings = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=MAX_LEARNINGS_LENGTH,
        help_text="What was learned and what to do next; kept as they are when left out.",
    )


class ReasonInput(serializers.Serializer):
    reason = StrictCharField(required=False, allow_blank=True, max_length=300, default="")


class NewPhaseInput(serializers.Serializer):
    coverage = StrictFloatField(required=False, allow_null=True, min_value=0, max_value=1)
    weights = serializers.DictField(
        child=WeightField(),
        required=False,
        allow_null=True,
        help_text=(
            f"New weights by variant key, each above 0 and at most {MAX_WEIGHT_TEXT}; variants "
            "left out keep theirs."
        ),
    )
    salt = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=128)
    reason = StrictCharField(required=False, allow_blank=True, max_length=300, default="")


EVENT_FILTER_HELP = (
    "Only the events whose properties match this condition count, in the targeting syntax: "
    '{"coupon": "NEW10"}, {"channel": {"$in": ["app", "web"]}}, {"value": {"$gt": 0}}. '
    "Top-level property keys, with $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte (numbers), $exists, "
    "$and, $or and $not; null or {}: every event."
)


class RatioPartInput(WholeInPatch):
    event = StrictCharField(max_length=64)
    value_field = StrictCharField(max_length=64, required=False, allow_null=True)
    filter = JSONObjectField(required=False, allow_null=True, help_text=EVENT_FILTER_HELP)


class RatioPartOutput(serializers.Serializer):
    event = serializers.CharField()
    value_field = serializers.CharField(allow_null=True, required=False)
    filter = serializers.JSONField(allow_null=True, required=False, help_text=EVENT_FILTER_HELP)


@extend_schema_field(RatioPartOutput(allow_null=True))
class RatioPartJsonField(serializers.JSONField):
    """A stored ratio part (``{"event": ..., "value_field": ...}``), output as stored."""


class ActivityEventInput(WholeInPatch):
    event = StrictCharField(max_length=64)
    filter = JSONObjectField(required=False, allow_null=True, help_text=EVENT_FILTER_HELP)


class ActivityEventOutput(serializers.Serializer):
    event = serializers.CharField()
    filter = serializers.JSONField(allow_null=True, required=False, help_text=EVENT_FILTER_HELP)


@extend_schema_field(ActivityEventOutput(many=True, allow_null=True))
class ActivityJsonField(serializers.JSONField):
    """A stored retention curve activity (a list of ``{"event": ..., "filter": ...}``)."""


ACTIVITY_HELP = (
    "retention_curve: the events that make a unit active on a day (any of them), 1 to 6, each "
    'with an optional filter: [{"event": "app_open"}, {"event": "purchase"}].'
)
HORIZON_HELP = (
    "retention_curve and value_curve: the last day since exposure the curve reaches, 1 to 90 "
    "(default 30). A retention curve has a point per day 1..horizon_days plus W1 (days 1-7) and "
    "M1 (days 1-30); a value curve D1..D30, then D60 and D90 when within the horizon."
)


class MetricInput(serializers.Serializer):
    key = StrictSlugField(max_length=64)
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=MetricType.choices)
    event = StrictCharField(max_length=64, required=False, allow_blank=True)
    value_field = StrictCharField(max_length=64, required=False, allow_blank=True)
    numerator = RatioPartInput(required=False, allow_null=True)
    denominator = RatioPartInput(required=False, allow_null=True)
    window_hours = StrictIntegerField(required=False, min_value=1, max_value=24 * 365)
    retention_day = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_STORED_INT
    )
    filter = JSONObjectField(required=False, allow_null=True, help_text=EVENT_FILTER_HELP)
    min_events = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_STORED_INT,
        help_text="count_threshold: the events a unit sends at least (k), e.g. 2 for a repurchase.",
    )
    among_converted = StrictBooleanField(
        required=False,
        help_text="count_threshold: true measures units with at least min_events among units "
        "with at least one (复购率, a ratio); false (default) among all exposed units.",
    )
    activity = serializers.ListField(
        child=ActivityEventInput(), required=False, allow_null=True, help_text=ACTIVITY_HELP
    )
    horizon_days = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_STORED_INT,
        help_text=HORIZON_HELP,
    )
    higher_is_better = StrictBooleanField(required=False)
    winsorize_percentile = StrictFloatField(
        required=False, allow_null=True, min_value=0.01, max_value=100
    )
    display_format = serializers.ChoiceField(
        choices=DisplayFormat.choices,
        required=False,
        allow_blank=True,
        help_text="How pages show the values: rate (%, differences in percentage points), "
        "currency (with `currency`'s symbol), count, duration (seconds) or number. Default by "
        "type: conversion, retention and count_threshold are rates, distinct_days a count, the "
        "others numbers.",
    )
    currency = StrictCharField(
        max_length=3,
        required=False,
        allow_blank=True,
        help_text='ISO 4217 code ("CNY", "USD") for the currency format.',
    )


class MetricOutput(serializers.ModelSerializer):
    numerator = RatioPartJsonField(allow_null=True)
    denominator = RatioPartJsonField(allow_null=True)
    filter = JSONObjectField(allow_null=True, help_text=EVENT_FILTER_HELP)
    activity = ActivityJsonField(allow_null=True, help_text=ACTIVITY_HELP)

    class Meta:
        model = Metric
        fields = ["key", *METRIC_FIELDS, "created_at", "updated_at"]


class LayerInput(serializers.Serializer):
    key = StrictSlugField(max_length=64)
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, default="")


class LayerExperimentOutput(serializers.Serializer):
    key = serializers.CharField()
    status = serializers.ChoiceField(choices=ExperimentStatus.choices)
    range = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        help_text="The slice [start, end) of the layer this experiment holds.",
    )


class LayerOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    experiments = serializers.SerializerMethodField()

    @extend_schema_field(LayerExperimentOutput(many=True))
    def get_experiments(self, obj: Any) -> list[dict[str, Any]]:
        return [
            {"key": e.key, "status": e.status, "range": [e.layer_start, e.layer_end]}
            for e in obj.experiments.all()
            if e.layer_start is not None
        ]


class AuditOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    message = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
