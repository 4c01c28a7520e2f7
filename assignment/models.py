from django.db import models
from django.db.models import Q

from core.limits import MAX_EVENT_NAME_LENGTH, MAX_UNIT_ID_LENGTH


class Exposure(models.Model):
    """The first time a unit was assigned a variant of a running experiment, in one phase.

    ``unit_id`` is the id the app sent (events are joined on it); ``bucket_id`` is the value that
    was hashed (the experiment's randomization unit attribute, e.g. an account id).
    ``multiple_variants`` is set when a later call for the same unit resolved to another variant
    (its attributes changed, or an override was added): analysis leaves such units out.
    """

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="exposures"
    )
    phase = models.PositiveIntegerField()
    unit_id = models.CharField(max_length=MAX_UNIT_ID_LENGTH)
    bucket_id = models.CharField(max_length=MAX_UNIT_ID_LENGTH)
    variant = models.ForeignKey(
        "experiments.Variant", on_delete=models.CASCADE, related_name="exposures"
    )
    forced = models.BooleanField(default=False)
    multiple_variants = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)
    first_exposed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "phase", "unit_id"], name="exposure_unit_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["experiment", "phase", "variant"], name="exposure_variant_idx"),
            models.Index(fields=["experiment", "first_exposed_at"], name="exposure_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} in {self.experiment_id}/{self.phase}: {self.variant_id}"


class Event(models.Model):
    """A conversion or behaviour event reported by an app, idempotent by ``event_id``.

    ``timestamp`` is the event time corrected for the client's clock skew (see the events
    service); ``client_timestamp`` is what the client sent.
    """

    event_id = models.CharField(max_length=128)
    unit_id = models.CharField(max_length=MAX_UNIT_ID_LENGTH)
    event = models.CharField(max_length=MAX_EVENT_NAME_LENGTH)
    timestamp = models.DateTimeField()
    client_timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    value = models.FloatField(null=True, blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id"], name="event_id_unique"),
            models.CheckConstraint(condition=~Q(event_id=""), name="event_id_not_empty"),
        ]
        indexes = [
            models.Index(fields=["event", "unit_id", "timestamp"], name="event_name_unit_idx"),
            models.Index(fields=["timestamp"], name="event_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} by {self.unit_id} at {self.timestamp:%Y-%m-%d %H:%M}"


class ClientExposureRejection(models.Model):
    """How many exposures reported by client SDKs were rejected, per experiment, phase and reason.

    A rejected client exposure means a broken or stale client: it reported a variant the unit
    does not hash to (``variant_mismatch``) or an experiment that is not running
    (``not_running``). The counts are part of the experiment's health.
    """

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="client_rejections"
    )
    phase = models.PositiveIntegerField()
    reason = models.CharField(max_length=32)
    count = models.PositiveBigIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "phase", "reason"], name="client_rejection_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.phase} {self.reason}: {self.count}"
