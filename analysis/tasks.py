"""Celery tasks of the analysis pipeline: they take ids, call services and own retries."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from analysis.models import Notification, ResultSnapshot
from analysis.services.notifications import notification_webhook_deliver, snapshot_notify
from analysis.services.refresh import experiment_refresh_run
from analysis.services.refresh_due import experiments_due_for_refresh
from analysis.services.snapshots import RefreshFailed
from core.notifications import WebhookTransient
from core.tasks import webhook_retries_spent, webhook_task
from experiments.models import Experiment, ExperimentStatus

logger = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(bind=True, name="analysis.refresh_experiment", max_retries=3)
def refresh_experiment(self: Any, experiment_id: int, as_of: str | None = None) -> dict:
    """The refresh service (``experiment_refresh_run``: snapshot, guardrail breaker,
    notifications), idempotent for a given ``as_of``.

    Database hiccups are retried with backoff; other errors are recorded as a failed snapshot
    and not retried (the last good snapshot stays in place).
    """
    experiment = Experiment.objects.filter(pk=experiment_id).first()
    if experiment is None:
        return {"status": "missing", "experiment_id": experiment_id}
    when = dt.datetime.fromisoformat(as_of) if as_of else timezone.now()
    try:
        snapshot = experiment_refresh_run(experiment=experiment, as_of=when)
    except RefreshFailed as exc:
        if isinstance(exc.cause, TRANSIENT) and self.request.retries < self.max_retries:
            raise self.retry(exc=exc.cause, countdown=30 * 2**self.request.retries) from exc
        return {"status": "failed", "snapshot_id": exc.snapshot.id, "error": exc.snapshot.error}
    return {"status": "ok", "snapshot_id": snapshot.id}


@shared_task(name="analysis.notify_snapshot")
def notify_snapshot(snapshot_id: int) -> int:
    """Send the notifications a snapshot calls for (each condition once)."""
    snapshot = ResultSnapshot.objects.select_related("experiment__owner").filter(pk=snapshot_id)
    found = snapshot.first()
    return len(snapshot_notify(snapshot=found)) if found else 0


@shared_task(name="analysis.refresh_due")
def refresh_due() -> list[int]:
    """Beat, every minute: queue a refresh for each running experiment that is due, and the
    final refresh of each experiment stopped since its last one (as of now, so the whole
    running time counts)."""
    now = timezone.now()
    slot = now.replace(second=0, microsecond=0).isoformat()
    due = experiments_due_for_refresh(now=now)
    for experiment in due:
        final = experiment.status == ExperimentStatus.STOPPED
        refresh_experiment.delay(experiment.id, None if final else slot)
    return [e.id for e in due]


@webhook_task("analysis.deliver_notification_webhook")
def deliver_notification_webhook(self: Any, notification_id: int) -> str:
    """POST one notification to the webhook. Unreachable, 429 and 5xx answers are retried with
    exponential backoff; after the last try the notification waits for the next snapshot. A
    4xx answer is final."""
    note = Notification.objects.filter(pk=notification_id).first()
    if note is None:
        return "missing"
    try:
        notification_webhook_deliver(note=note)
    except WebhookTransient:
        if webhook_retries_spent(self):
            return "gave_up"
        raise
    return "sent" if note.webhook_sent_at else (note.webhook_error or "skipped")


@shared_task(name="analysis.purge_events")
def purge_events() -> dict[str, Any]:
    """Beat, every hour: purge raw events older than ``VERDICT_EVENT_RETENTION_DAYS`` that no
    analysis can still read (``analysis.services.retention``); nothing when it is 0."""
    from analysis.services.retention import events_purge

    days = settings.VERDICT_EVENT_RETENTION_DAYS
    if not days or days <= 0:
        return {"status": "off", "deleted": 0}
    report = events_purge(days=days)
    return {"status": "ok", "deleted": report.deleted, "cutoff": report.cutoff.isoformat()}


@shared_task(name="analysis.export_lake")
def export_lake() -> dict[str, Any]:
    """Beat, every ``VERDICT_LAKE_EXPORT_MINUTES`` when ``VERDICT_LAKE_EXPORT_DIR`` is set: write
    the exposures and events not yet in the lake (``analysis.warehouse.export``). A failed run
    is redone by the next one (its batch is rewritten under the same names)."""
    from analysis.warehouse.export import LakeExportError, lake_export

    destination = settings.VERDICT_LAKE_EXPORT_DIR
    if not destination:
        return {"status": "off"}
    try:
        report = lake_export(destination=destination)
    except LakeExportError as exc:
        logger.error("lake export to %s failed: %s", destination, exc)
        return {"status": "failed", "error": str(exc)}
    return {
        "status": "ok",
        "rows": {name: table.rows for name, table in report.tables.items()},
    }
