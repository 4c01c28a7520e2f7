"""Scheduled starts and stops: lifecycle rules applied by Celery beat every minute."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ValidationFailed
from core.notifications import email_send
from experiments.models import AuditLogEntry, Experiment, ExperimentStatus

from .audit import audit_record
from .lifecycle import experiment_transition

logger = logging.getLogger(__name__)
SCHEDULER = Actor.system("scheduler")
START_FAILED = "scheduled_start_failed"


def _start_failed(experiment: Experiment, reason: str) -> dict | None:
    """Record a scheduled start that could not happen, once per scheduled time; returns the
    webhook payload to send when it is new."""
    when = experiment.scheduled_start_at.isoformat()
    if AuditLogEntry.objects.filter(
        experiment=experiment, action=START_FAILED, after__scheduled_start_at=when
    ).exists():
        return None
    subject = _("[Verdict] %(key)s: scheduled start did not happen") % {"key": experiment.key}
    message = _("The experiment could not start at its scheduled time: %(reason)s") % {
        "reason": reason
    }
    audit_record(
        actor=SCHEDULER,
        action=START_FAILED,
        experiment=experiment,
        after={"scheduled_start_at": when, "reason": reason},
        message=message,
    )
    email_send(
        to=(experiment.owner.email if experiment.owner else "") or "",
        subject=subject,
        message=message,
    )
    return {
        "experiment": experiment.key,
        "kind": "schedule",
        "severity": "warning",
        "condition": f"schedule:start:{when}",
        "subject": subject,
        "message": message,
    }


def schedules_apply(*, now: dt.datetime) -> dict[str, list]:
    """Start drafts whose ``scheduled_start_at`` has come and stop running or paused experiments
    whose ``scheduled_stop_at`` has come. Returns the keys acted on, and in ``alerts`` the
    payloads of new failed-start alerts (the owner is emailed; the caller sends the webhook).
    A start the experiment is not ready for is tried again next time, and reported once."""
    done: dict[str, list] = {"started": [], "stopped": [], "not_ready": [], "alerts": []}
    due_start = Experiment.objects.filter(
        status=ExperimentStatus.DRAFT, scheduled_start_at__lte=now
    ).select_related("owner")
    for experiment in due_start:
        try:
            experiment_transition(actor=SCHEDULER, experiment=experiment, action="start")
            done["started"].append(experiment.key)
        except ValidationFailed as exc:
            done["not_ready"].append(experiment.key)
            alert = _start_failed(experiment, str(exc))
            if alert is not None:
                done["alerts"].append(alert)
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
