"""Asking for a refresh: the Celery task is sent once the current transaction commits.

With no broker configured the task runs in this process, after commit. With a broker, a request
outside a transaction (an API call) publishes the task at once and raises
``ServiceUnavailable`` (HTTP 503 with the reason) when the broker cannot take it, so "queued"
is only answered for a task that was queued. Inside a transaction the broker is checked first
and the task is published on commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from core.errors import ServiceUnavailable
from experiments.models import Experiment

logger = logging.getLogger(__name__)

BROKER_RETRY_AFTER_SECONDS = 30


def _broker_unavailable(exc: BaseException) -> ServiceUnavailable:
    logger.warning("refresh not queued: the broker cannot be reached (%s)", type(exc).__name__)
    return ServiceUnavailable(
        "broker",
        gettext(
            "The task queue cannot be reached, so the refresh was not queued. The last results "
            "stay available; retry in a little while."
        ),
        retry_after=BROKER_RETRY_AFTER_SECONDS,
    )


def _publish(experiment_id: int, as_of: str | None) -> None:
    from analysis.tasks import refresh_experiment

    # No publish retries: a broker that is down answers now instead of holding the request.
    refresh_experiment.apply_async((experiment_id, as_of), retry=False)


def _enqueue(experiment_id: int, as_of: str | None) -> None:
    try:
        _publish(experiment_id, as_of)
    except Exception:  # the failure is recorded by the task; the caller has its answer
        logger.exception("refresh of experiment %s could not run", experiment_id)


def _app() -> Any:
    from analysis.tasks import refresh_experiment

    return refresh_experiment.app


def _eager() -> bool:
    return bool(_app().conf.task_always_eager)


def broker_check() -> None:
    """Raise ``ServiceUnavailable`` unless the broker accepts a connection."""
    try:
        with _app().connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    except Exception as exc:
        raise _broker_unavailable(exc) from exc


def experiment_refresh_request(
    *, experiment: Experiment, as_of: dt.datetime | None = None
) -> dict[str, Any]:
    """Queue a refresh (with no broker configured it runs in this process, after commit).

    Raises ``ServiceUnavailable`` when a broker is configured but cannot be reached.
    """
    stamp = as_of.isoformat() if as_of else None
    if _eager():
        transaction.on_commit(lambda: _enqueue(experiment.id, stamp))
    elif not transaction.get_connection().in_atomic_block:
        try:
            _publish(experiment.id, stamp)
        except Exception as exc:
            raise _broker_unavailable(exc) from exc
    else:
        broker_check()
        transaction.on_commit(lambda: _enqueue(experiment.id, stamp))
    return {"experiment": experiment.key, "status": "queued"}
