from django.db import models
from django.db.models import Q

from core import vocab
from core.models import text_choices

MetricType = text_choices(vocab.MetricType)
MetricRole = text_choices(vocab.MetricRole)
DisplayFormat = text_choices(vocab.DisplayFormat)


class Metric(models.Model):
    """A reusable definition over events, shared by experiments.

    - conversion: did the unit send ``event`` within ``window_hours`` of first exposure;
    - mean: per-unit sum of ``value_field`` of ``event`` within the window (e.g. ARPU);
    - ratio: per-unit ``numerator`` sum over per-unit ``denominator`` sum, each
      ``{"event": ..., "value_field": ... or null}`` (null counts events);
    - retention: active (sent ``event``) on day ``retention_day`` after exposure;
    - count_threshold: the unit sent ``event`` at least ``min_events`` times within the window
      (among all units, or with ``among_converted`` among units that sent it at least once:
      a repurchase rate, 复购率);
    - conditional_mean: the ``value_field`` sum per unit whose sum is above 0 (ARPPU);
    - distinct_days: the number of UTC days with an ``event`` within the window;
    - retention_curve: active on each day d = 1..``horizon_days`` after exposure, and in week 1
      and month 1, where active means any of the ``activity`` events (a list of
      ``{"event": ..., "filter": ...}``); each point counts only the units whose day has passed;
    - value_curve: cumulative ``value_field`` of ``event`` per unit by day since exposure (D1 to
      D30, D60, D90 up to ``horizon_days``), each point over the units whose days have passed.

    ``filter`` (and a ratio part's ``"filter"``) keeps only the events whose properties match a
    condition in the targeting syntax (``experiments.targeting.event_filter``).
    """

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=16, choices=MetricType.choices)
    event = models.CharField(max_length=64, blank=True)
    value_field = models.CharField(max_length=64, blank=True)
    numerator = models.JSONField(null=True, blank=True)
    denominator = models.JSONField(null=True, blank=True)
    window_hours = models.PositiveIntegerField(default=168)
    retention_day = models.PositiveIntegerField(null=True, blank=True)
    filter = models.JSONField(null=True, blank=True)
    min_events = models.PositiveIntegerField(null=True, blank=True)
    among_converted = models.BooleanField(default=False)
    activity = models.JSONField(null=True, blank=True)
    horizon_days = models.PositiveIntegerField(null=True, blank=True)
    higher_is_better = models.BooleanField(default=True)
    winsorize_percentile = models.FloatField(null=True, blank=True)
    # How the pages show its values; empty means the type's default (``vocab.display_format_of``).
    display_format = models.CharField(
        max_length=16, choices=DisplayFormat.choices, blank=True, default=""
    )
    # ISO 4217 code ("CNY", "USD") for the currency format: the pages show its symbol.
    currency = models.CharField(max_length=3, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(condition=Q(window_hours__gte=1), name="metric_window_positive"),
            models.CheckConstraint(
                condition=Q(winsorize_percentile__isnull=True)
                | Q(winsorize_percentile__gt=0, winsorize_percentile__lte=100),
                name="metric_winsorize_percentile_range",
            ),
            models.CheckConstraint(
                condition=Q(min_events__isnull=True) | Q(min_events__gte=1),
                name="metric_min_events_positive",
            ),
            models.CheckConstraint(
                condition=Q(horizon_days__isnull=True)
                | Q(horizon_days__gte=1, horizon_days__lte=90),
                name="metric_horizon_days_range",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def effective_display_format(self) -> vocab.DisplayFormat:
        return vocab.display_format_of(self.type, self.display_format)


class ExperimentMetric(models.Model):
    """A metric linked to an experiment in a role: one primary, any secondary and guardrail."""

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="metric_links"
    )
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="experiment_links")
    role = models.CharField(max_length=16, choices=MetricRole.choices)
    position = models.PositiveIntegerField(default=0)
    harm_threshold = models.FloatField(
        null=True,
        blank=True,
        help_text=(
            "Guardrails only: the relative harm (0.05 = 5% worse) beyond which the guardrail "
            "circuit breaker pauses the experiment; empty means any harm (0)."
        ),
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(harm_threshold__isnull=True) | Q(harm_threshold__gte=0),
                name="experiment_metric_harm_threshold_nonnegative",
            ),
            models.UniqueConstraint(
                fields=["experiment", "metric"], name="experiment_metric_unique"
            ),
            models.UniqueConstraint(
                fields=["experiment"],
                condition=Q(role="primary"),
                name="experiment_one_primary_metric",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric.key} ({self.role})"
