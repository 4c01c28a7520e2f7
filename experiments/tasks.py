"""Celery tasks of the control plane: thin wrappers that call the lifecycle services."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from core.notifications import webhook_url
from core.tasks import send_webhook
from experiments.services.schedules import schedules_apply


@shared_task(name="experiments.apply_schedules")
def apply_schedules() -> dict[str, list[str]]:
    """Beat, every minute: scheduled starts and stops. A stopped experiment's final refresh is
    queued by the analysis beat (``analysis.refresh_due``)."""
    done = schedules_apply(now=timezone.now())
    if webhook_url():
        for alert in done["alerts"]:
            transaction.on_commit(lambda alert=alert: send_webhook.delay(alert, alert["condition"]))
    return {k: v for k, v in done.items() if k != "alerts"}
