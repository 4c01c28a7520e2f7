"""Reads for the experiment pages: the filtered list, its filter choices, the breaker's pause
reason. A row's latest results come from ``list_summary``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from analysis.services.breaker import ANALYSIS_ACTOR
from experiments import selectors
from experiments.models import AuditLogEntry, Experiment, ExperimentStatus, Layer


def experiment_list_filtered(
    *,
    search: str = "",
    status: str | None = None,
    kind: str | None = None,
    owner_id: int | None = None,
    layer_key: str | None = None,
) -> QuerySet[Experiment]:
    """Experiments matching the list page's search and filters, newest first."""
    qs = selectors.experiment_list(status=status, kind=kind)
    if search:
        qs = qs.filter(
            Q(key__icontains=search) | Q(name__icontains=search) | Q(hypothesis__icontains=search)
        )
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if layer_key:
        qs = qs.filter(layer__key=layer_key)
    return qs


def experiment_owners() -> QuerySet[Any]:
    """People who own at least one experiment, for the owner filter."""
    return (
        get_user_model().objects.filter(experiments__isnull=False).distinct().order_by("username")
    )


def layer_choices() -> QuerySet[Layer]:
    """Layers for the layer filter, by key."""
    return Layer.objects.order_by("key")


def breaker_pause(*, experiment: Experiment) -> AuditLogEntry | None:
    """The audit entry of the guardrail breaker's pause, when a paused experiment's latest pause
    was made by analysis (its message says which guardrail, by how much, and which snapshot)."""
    if experiment.status != ExperimentStatus.PAUSED:
        return None
    entry = AuditLogEntry.objects.filter(experiment=experiment, action="pause").first()
    if entry is not None and entry.actor_label == ANALYSIS_ACTOR:
        return entry
    return None
