from django.db import models
from django.db.models import Q

from core.limits import MAX_UNIT_ID_LENGTH


class Variant(models.Model):
    """An arm of an experiment: a relative weight and the JSON payload the app acts on."""

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="variants"
    )
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    weight = models.FloatField(default=1.0)
    is_control = models.BooleanField(default=False)
    payload = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="variant_key_unique"),
            models.UniqueConstraint(
                fields=["experiment"],
                condition=Q(is_control=True),
                name="variant_one_control",
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="variant_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.key


class Override(models.Model):
    """A QA override: this unit id always gets this variant, and is left out of analysis."""

    experiment = models.ForeignKey(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="overrides"
    )
    unit_id = models.CharField(max_length=MAX_UNIT_ID_LENGTH)
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="overrides")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "unit_id"], name="override_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} -> {self.variant.key}"
