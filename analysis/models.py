"""Result snapshots (an analysis at a point in time, with its inputs) and sent notifications."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class SnapshotStatus(models.TextChoices):
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


class ResultSnapshot(models.Model):
    """The analysis of one experiment phase as of a point in time.

    ``inputs`` holds every sufficient statistic the statistics engine was given (per metric,
    variant and segment, as ``to_dict()``), ``plan`` the analysis plan in force, and
    ``results`` the report served by the API (``analysis.engine.contract.Results.to_dict()``, with
    its ``schema_version``; read it with ``analysis.selectors.snapshot_results``, which also
    reads results stored before versions existed); ``analysis.services.snapshot_recompute``
    rebuilds ``results`` from ``inputs`` and ``plan`` alone. A failed refresh is kept as a
    ``failed`` row with its error, and the API keeps serving the latest ``ok`` snapshot.
    """

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="snapshots"
    )
    phase = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=SnapshotStatus.choices)
    as_of = models.DateTimeField(help_text="Exposures and events up to this time are counted.")
    computed_at = models.DateTimeField()
    duration_seconds = models.FloatField(default=0.0)
    engine_version = models.CharField(max_length=32, blank=True)
    plan = models.JSONField(default=dict, blank=True)
    inputs = models.JSONField(default=dict, blank=True)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [
            models.Index(
                fields=["experiment", "status", "-computed_at"], name="snapshot_latest_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "phase", "as_of"],
                condition=Q(status="ok"),
                name="snapshot_ok_as_of_unique",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.experiment_id}/{self.phase} as of {self.as_of:%Y-%m-%d %H:%M} ({self.status})"
        )


class Notification(models.Model):
    """A condition the owner was told about (a health check or a decision), once per experiment.

    ``condition`` is a stable key such as ``phase-1:health:srm`` or
    ``phase-1:decision:ship:pro``; the unique constraint is what keeps a condition from being
    sent twice.
    """

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="notifications"
    )
    condition = models.CharField(max_length=200)
    snapshot = models.ForeignKey(
        ResultSnapshot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=300)
    message = models.TextField()
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    email_to = models.CharField(max_length=254, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    webhook_url = models.CharField(max_length=500, blank=True)
    webhook_sent_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveIntegerField(default=0)
    webhook_status = models.IntegerField(null=True, blank=True)
    webhook_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "condition"], name="notification_condition_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}: {self.condition}"


class LakeExport(models.Model):
    """How far ``manage.py export_lake`` has written one table to one lake (docs/warehouse.md).

    ``last_id``: every row of the table with a smaller or equal id is in the lake (or was left
    out by ``--since``). ``pending_upto``: the batch being written; it is set before the batch's
    files are written and ``last_id`` catches up only once they are durable, so a run that
    crashed in between writes the same batch (the same file names) again, never a row twice.
    """

    destination = models.CharField(max_length=500)
    table = models.CharField(max_length=16)
    last_id = models.BigIntegerField(default=0)
    pending_upto = models.BigIntegerField(default=0)
    rows_exported = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["destination", "table"], name="lake_export_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.table} -> {self.destination} (up to id {self.last_id})"


class LakeExportFlag(models.Model):
    """The flags an exposure has in one lake, for exposures exported with ``forced`` or
    ``multiple_variants`` set, or flagged later. Flags only ever turn on: an exposure flagged
    after its export is rewritten in its lake file by the next export run."""

    destination = models.CharField(max_length=500)
    exposure_id = models.BigIntegerField()
    forced = models.BooleanField(default=False)
    multiple_variants = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "exposure_id"], name="lake_export_flag_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"exposure {self.exposure_id} in {self.destination}"


class PlantedEffect(models.Model):
    """Demo data: the true relative effect the traffic simulator planted on one metric and
    variant of an experiment (``analysis.simulation.scenarios.true_effect``), written by
    ``manage.py demo`` and ``manage.py simulate``. The report shows it beside Verdict's
    estimate, marked as demo data."""

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="planted_effects"
    )
    metric = models.CharField(max_length=64)
    variant = models.CharField(max_length=64)
    effect = models.FloatField()
    scenario = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "metric", "variant"], name="planted_effect_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id} {self.metric}/{self.variant}: {self.effect:+.1%}"
