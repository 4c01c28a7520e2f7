"""Reads of the control plane."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from experiments.models import (
    AuditLogEntry,
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
    Layer,
    Metric,
)


def experiment_list(*, status: str | None = None, kind: str | None = None) -> QuerySet[Experiment]:
    qs = Experiment.objects.select_related("layer", "owner", "winner").prefetch_related(
        "variants",
        Prefetch("metric_links", queryset=ExperimentMetric.objects.select_related("metric")),
    )
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def experiment_or_404(key: str) -> Experiment:
    """The experiment with this key; ``Http404`` (a JSON 404 in the API) when there is none."""
    experiment = experiment_get(key=key)
    if experiment is None:
        raise Http404(f'No experiment with key "{key}".')
    return experiment


def experiment_get(*, key: str) -> Experiment | None:
    return experiment_list().filter(key=key).first()


def experiment_audit(*, experiment: Experiment) -> QuerySet[AuditLogEntry]:
    return AuditLogEntry.objects.filter(experiment=experiment).order_by("-at", "-id")


def experiment_plan_changes(*, experiment: Experiment) -> QuerySet[AuditLogEntry]:
    return experiment_audit(experiment=experiment).filter(action="plan_change")


def metric_list() -> QuerySet[Metric]:
    return Metric.objects.all()


def layer_list() -> QuerySet[Layer]:
    return Layer.objects.all()


def experiment_days_running(*, experiment: Experiment, now: dt.datetime) -> int | None:
    """Whole days the experiment has run: from its start to its stop, to its latest pause
    while it is paused, else to ``now``; None before it started."""
    if experiment.started_at is None:
        return None
    end = experiment.stopped_at or now
    if experiment.stopped_at is None and experiment.status == ExperimentStatus.PAUSED:
        paused = AuditLogEntry.objects.filter(experiment=experiment, action="pause").first()
        if paused is not None:
            end = paused.at
    return max((end - experiment.started_at).days, 0)
