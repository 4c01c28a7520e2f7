from django.conf import settings
from django.db import models
from django.db.models import Q

from core import vocab
from core.models import text_choices

ExperimentKind = text_choices(vocab.ExperimentKind)
ExperimentStatus = text_choices(vocab.ExperimentStatus)


class AnalysisMethod(models.TextChoices):
    FREQUENTIST = "frequentist", "Frequentist"
    SEQUENTIAL = "sequential", "Sequential"
    BAYESIAN = "bayesian", "Bayesian"


class Correction(models.TextChoices):
    NONE = "none", "None"
    HOLM = "holm", "Holm"
    BH = "bh", "Benjamini-Hochberg"


Decision = text_choices(vocab.Decision)


class Experiment(models.Model):
    """An experiment: its definition, its pre-registered analysis plan and its conclusion."""

    # Not stored: set by the lifecycle service on the instance it returns, with what the caller
    # should be told that did not stop the action (e.g. overlapping live experiments at start).
    warnings: tuple[str, ...] | list[str] = ()

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True)
    expected_effect = models.CharField(
        max_length=200,
        blank=True,
        help_text="The effect expected when the experiment was designed, e.g. +5% paid conversion.",
    )
    kind = models.CharField(
        max_length=16, choices=ExperimentKind.choices, default=ExperimentKind.OTHER
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="experiments",
    )
    status = models.CharField(
        max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT
    )
    salt = models.CharField(max_length=128, blank=True)
    phase = models.PositiveIntegerField(default=1)
    coverage = models.FloatField(default=1.0)
    unit_attribute = models.CharField(max_length=64, default="user_id")
    targeting = models.JSONField(default=dict, blank=True)
    layer = models.ForeignKey(
        "experiments.Layer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="experiments",
    )
    data_source = models.ForeignKey(
        "experiments.DataSource",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="experiments",
        help_text="Where exposures and events are read from; empty: the application database.",
    )
    layer_start = models.FloatField(null=True, blank=True)
    layer_end = models.FloatField(null=True, blank=True)
    layer_share = models.FloatField(
        default=1.0, help_text="Share of the layer this experiment asks for when it starts."
    )

    scheduled_start_at = models.DateTimeField(null=True, blank=True)
    scheduled_stop_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    planned_sample_size = models.PositiveIntegerField(null=True, blank=True)
    planned_duration_days = models.PositiveIntegerField(null=True, blank=True)
    refresh_minutes = models.PositiveIntegerField(default=15)

    # Pre-registered analysis plan.
    alpha = models.FloatField(default=0.05)
    method = models.CharField(
        max_length=16, choices=AnalysisMethod.choices, default=AnalysisMethod.FREQUENTIST
    )
    correction = models.CharField(max_length=8, choices=Correction.choices, default=Correction.NONE)
    cuped = models.BooleanField(default=False)
    # Segments from each unit's history before its first exposure, besides its attributes
    # (``analysis.aggregation.history``): {"kinds": ["new_vs_returning", "rfm", "spend_tier"],
    # "days": the look-back in days, "value_event"/"value_field": what spend is}; {}: none.
    history_segments = models.JSONField(default=dict, blank=True)
    # The correction of segment p-values across one dimension's segments (none, holm, bh).
    segment_correction = models.CharField(
        max_length=8, choices=Correction.choices, default=Correction.NONE
    )
    mde = models.FloatField(null=True, blank=True, help_text="Minimum detectable relative effect")
    guardrail_auto_pause = models.BooleanField(
        default=False,
        help_text="Pause the experiment when a guardrail is harmed beyond its threshold.",
    )

    # Conclusion.
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    winner = models.ForeignKey(
        "experiments.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conclusion_review = models.TextField(blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)
    learnings = models.TextField(
        blank=True, help_text="What the team learned and what to do next (the readout)."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(coverage__gte=0, coverage__lte=1), name="experiment_coverage_range"
            ),
            models.CheckConstraint(
                condition=Q(alpha__gt=0, alpha__lt=0.5), name="experiment_alpha_range"
            ),
            models.CheckConstraint(
                condition=Q(layer_share__gt=0, layer_share__lte=1),
                name="experiment_layer_share_range",
            ),
            models.CheckConstraint(
                condition=Q(mde__isnull=True) | Q(mde__gt=0), name="experiment_mde_positive"
            ),
            models.CheckConstraint(
                condition=Q(refresh_minutes__gte=1), name="experiment_refresh_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def hash_seed(self) -> str:
        """The seed fed to the hash: the salt, or the key when no salt is set."""
        return self.salt or self.key

    @property
    def analysis_plan(self) -> dict:
        return {
            "alpha": self.alpha,
            "method": self.method,
            "correction": self.correction,
            "cuped": self.cuped,
            "mde": self.mde,
            "guardrail_auto_pause": self.guardrail_auto_pause,
            # Only when set, so plans stored before these existed read the same.
            **({"history_segments": self.history_segments} if self.history_segments else {}),
            **(
                {"segment_correction": self.segment_correction}
                if self.segment_correction != Correction.NONE
                else {}
            ),
        }


class Phase(models.Model):
    """A period of an experiment with fixed randomization (salt, coverage, weights).

    Exposures belong to a phase; lowering coverage, changing weights or re-randomizing begins
    a new one, so units assigned before the change are not mixed with units assigned after.
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="phases")
    number = models.PositiveIntegerField()
    salt = models.CharField(max_length=128)
    coverage = models.FloatField()
    weights = models.JSONField(default=dict)
    reason = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["experiment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "number"], name="phase_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.experiment.key} phase {self.number}"
