"""Which experiments a refresh is due for (Celery beat asks every minute)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max

from experiments.models import Experiment, ExperimentStatus


def experiments_due_for_refresh(*, now: dt.datetime) -> list[Experiment]:
    """Running experiments whose last refresh attempt is older than their ``refresh_minutes``,
    and stopped ones with no refresh since they stopped (their final snapshot)."""
    candidates = Experiment.objects.filter(
        status__in=[ExperimentStatus.RUNNING, ExperimentStatus.STOPPED]
    ).annotate(last=Max("snapshots__computed_at"))
    due = []
    for e in candidates:
        if e.status == ExperimentStatus.STOPPED:
            if e.stopped_at is not None and (e.last is None or e.last < e.stopped_at):
                due.append(e)
        elif e.last is None or e.last + dt.timedelta(minutes=e.refresh_minutes) <= now:
            due.append(e)
    return due
