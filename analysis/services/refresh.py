"""Asking for a refresh: runs the Celery task after the current transaction commits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction

from experiments.models import Experiment

logger = logging.getLogger(__name__)


def _enqueue(experiment_id: int, as_of: str | None) -> None:
    from analysis.tasks import refresh_experiment

    try:
        refresh_experiment.delay(experiment_id, as_of)
    except Exception:  # the failure is recorded by the task; the caller has its answer
        logger.exception("refresh of experiment %s could not run", experiment_id)


def experiment_refresh_request(
    *, experiment: Experiment, as_of: dt.datetime | None = None
) -> dict[str, Any]:
    """Queue a refresh (with no broker configured it runs in this process, after commit)."""
    stamp = as_of.isoformat() if as_of else None
    transaction.on_commit(lambda: _enqueue(experiment.id, stamp))
    return {"experiment": experiment.key, "status": "queued"}
