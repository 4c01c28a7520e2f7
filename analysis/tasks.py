"""Celery tasks of the analysis pipeline: they take ids, call services and own retries."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from analysis.models import ResultSnapshot
from analysis.services.notifications import snapshot_notify
from analysis.services.scheduler import experiments_due_for_refresh, schedules_apply
from analysis.services.snapshots import RefreshFailed, experiment_refresh
from experiments.models import Experiment

logger = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(bind=True, name="analysis.refresh_experiment", max_retries=3)
def refresh_experiment(self: Any, experiment_id: int, as_of: str | None = None) -> dict:
    """Compute a snapshot (idempotent for a given ``as_of``), then notify.

    Database hiccups are retried with backoff; other errors are recorded as a failed snapshot
    and not retried (the last good snapshot stays in place).
    """
    experiment = Experiment.objects.filter(pk=experiment_id).first()
    if experiment is None:
        return {"status": "missing", "experiment_id": experiment_id}
    when = dt.datetime.fromisoformat(as_of) if as_of else timezone.now()
    try:
        snapshot = experiment_refresh(experiment=experiment, as_of=when)
    except RefreshFailed as exc:
        if isinstance(exc.cause, TRANSIENT) and self.request.retries < self.max_retries:
            raise self.retry(exc=exc.cause, countdown=30 * 2**self.request.retries) from exc
        return {"status": "failed", "snapshot_id": exc.snapshot.id, "error": exc.snapshot.error}
    transaction.on_commit(lambda: notify_snapshot.delay(snapshot.id))
    return {"status": "ok", "snapshot_id": snapshot.id}


@shared_task(name="analysis.notify_snapshot")
def notify_snapshot(snapshot_id: int) -> int:
    """Send the notifications a snapshot calls for (each condition once)."""
    snapshot = ResultSnapshot.objects.select_related("experiment__owner").filter(pk=snapshot_id)
    found = snapshot.first()
    return len(snapshot_notify(snapshot=found)) if found else 0


@shared_task(name="analysis.refresh_due")
def refresh_due() -> list[int]:
    """Beat, every minute: queue a refresh for each running experiment that is due."""
    now = timezone.now()
    slot = now.replace(second=0, microsecond=0).isoformat()
    due = experiments_due_for_refresh(now=now)
    for experiment in due:
        refresh_experiment.delay(experiment.id, slot)
    return [e.id for e in due]


@shared_task(name="analysis.apply_schedules")
def apply_schedules() -> dict[str, list[str]]:
    """Beat, every minute: scheduled starts and stops; a stopped experiment gets a final
    refresh."""
    done = schedules_apply(now=timezone.now())
    for experiment in Experiment.objects.filter(key__in=done["stopped"]):
        refresh_experiment.delay(experiment.id, None)
    return done
