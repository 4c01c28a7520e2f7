"""What Celery beat does every minute: scheduled starts and stops, and due refreshes."""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import Max

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import Experiment, ExperimentStatus
from experiments.services.lifecycle import experiment_transition

from .notifications import owner_notify

logger = logging.getLogger(__name__)
SCHEDULER = Actor.system("scheduler")


def schedules_apply(*, now: dt.datetime) -> dict[str, list[str]]:
    """Start drafts whose ``scheduled_start_at`` has come and stop running or paused
    experiments whose ``scheduled_stop_at`` has come. Returns the keys acted on. A start the
    experiment is not ready for is reported to the owner once and tried again next time."""
    done: dict[str, list[str]] = {"started": [], "stopped": [], "not_ready": []}
    due_start = Experiment.objects.filter(
        status=ExperimentStatus.DRAFT, scheduled_start_at__lte=now
    ).select_related("owner")
    for experiment in due_start:
        try:
            experiment_transition(actor=SCHEDULER, experiment=experiment, action="start")
            done["started"].append(experiment.key)
        except ValidationFailed as exc:
            done["not_ready"].append(experiment.key)
            owner_notify(
                experiment=experiment,
                condition=f"schedule:start:{experiment.scheduled_start_at.isoformat()}",
                subject=f"[Verdict] {experiment.key}: scheduled start did not happen",
                message=f"The experiment could not start at its scheduled time: {exc}",
            )
    due_stop = Experiment.objects.filter(
        status__in=[ExperimentStatus.RUNNING, ExperimentStatus.PAUSED],
        scheduled_stop_at__lte=now,
    )
    for experiment in due_stop:
        try:
            experiment_transition(actor=SCHEDULER, experiment=experiment, action="stop")
            done["stopped"].append(experiment.key)
        except ValidationFailed:  # changed status meanwhile
            logger.info("scheduled stop of %s skipped", experiment.key)
    return done


def experiments_due_for_refresh(*, now: dt.datetime) -> list[Experiment]:
    """Running experiments whose last refresh attempt is older than their ``refresh_minutes``."""
    running = Experiment.objects.filter(status=ExperimentStatus.RUNNING).annotate(
        last=Max("snapshots__computed_at")
    )
    return [
        e
        for e in running
        if e.last is None or e.last + dt.timedelta(minutes=e.refresh_minutes) <= now
    ]
