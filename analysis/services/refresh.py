"""Running and asking for a refresh.

``experiment_refresh_run`` is every door's refresh (the Celery task, ``manage.py analyze``, the
report's refresh button and the eager path, through the task): it computes the snapshot,
applies the guardrail circuit breaker and queues the notifications, so a harmful guardrail
pauses the experiment whichever door ran the refresh.

``experiment_refresh_request`` asks for one: the Celery task is sent once the current
transaction commits.

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

from analysis.models import ResultSnapshot
from analysis.services.breaker import snapshot_breaker_apply
from analysis.services.snapshots import experiment_refresh
from core.errors import ServiceUnavailable
from experiments.models import Experiment

logger = logging.getLogger(__name__)

BROKER_RETRY_AFTER_SECONDS = 30


def _notify(snapshot_id: int) -> None:
    from analysis.tasks import notify_snapshot

    notify_snapshot.delay(snapshot_id)


def experiment_refresh_run(
    *, experiment: Experiment, as_of: dt.datetime | None = None, segments: bool = True
) -> ResultSnapshot:
    """Compute a snapshot as of ``as_of`` (default now; idempotent for a given time), apply the
    guardrail breaker (which may pause the experiment, with its audit entry), then queue the
    notifications it calls for once the transaction commits.

    ``segments=False`` leaves the segment breakdown out (a history's past days). Raises
    ``RefreshFailed`` (with the stored failed snapshot) when the computation fails.
    """
    snapshot = experiment_refresh(experiment=experiment, as_of=as_of, segments=segments)
    snapshot_breaker_apply(snapshot=snapshot)
    # A queue that cannot be reached loses no result: the notifications are sent with the next
    # snapshot (each condition once).
    transaction.on_commit(lambda: _notify(snapshot.id), robust=True)
    return snapshot


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
