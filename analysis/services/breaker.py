"""The guardrail circuit breaker: pause an experiment whose guardrail is harmed.

After each successful refresh (``analysis.tasks.refresh_experiment``), when the snapshot's
results carry a harmful breaker row (``analysis.engine.breaker_rule``), the experiment is
paused through the lifecycle service, so every unit gets the control. The audit entry's actor
is ``analysis`` and its message names the metric, variant, effect, always-valid interval,
threshold and snapshot, in English, rendered from the breaker's codes by ``analysis.words``.
The owner is told once by email and webhook (a ``Notification`` with condition
``phase-<N>:breaker:<metric>:<variant>``).

Resuming is a person's decision: a condition that paused the experiment once does not pause
it again in the same phase, so a resumed experiment keeps running unless another guardrail or
variant becomes harmful. A new phase starts afresh.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import translation

from analysis.engine.breaker_rule import breaker_notice_coded, breaker_pause_coded
from analysis.engine.contract.breaker import BreakerRow
from analysis.models import Notification, ResultSnapshot
from analysis.selectors import snapshot_results
from analysis.words import breaker_message
from core.actors import Actor
from experiments.models import Experiment, ExperimentStatus
from experiments.services.lifecycle import experiment_transition

from .notifications import condition_notify

logger = logging.getLogger(__name__)

ANALYSIS_ACTOR = "analysis"


def breaker_condition(*, phase: int, metric: str, variant: str) -> str:
    """The notification condition of a breaker row: the key that keeps it to once a phase."""
    return f"phase-{phase}:breaker:{metric}:{variant}"


def _reason(rows: list[BreakerRow], *, alpha: float, snapshot: ResultSnapshot) -> str:
    coded = breaker_pause_coded(
        rows, alpha=alpha, snapshot_id=snapshot.id, as_of=snapshot.as_of.isoformat()
    )
    with translation.override("en"):
        return breaker_message(coded)


def _item(row: BreakerRow, *, snapshot: ResultSnapshot, alpha: float, key: str) -> dict[str, Any]:
    condition = breaker_condition(phase=snapshot.phase, metric=row.metric, variant=row.variant)
    with translation.override("en"):
        message = breaker_message(breaker_notice_coded(row, alpha=alpha))
    return {
        "condition": condition,
        "kind": "breaker",
        "severity": "error",
        "subject": f"[Verdict] {key}: paused by the guardrail breaker ({row.metric})",
        "message": message,
        "breaker": row.to_dict(),
    }


@transaction.atomic
def snapshot_breaker_apply(*, snapshot: ResultSnapshot) -> list[Notification]:
    """Pause the experiment when ``snapshot`` shows a guardrail harmed beyond its threshold
    that has not paused it before in this phase; returns the owner's new notifications
    (empty when nothing was done).

    Only a running experiment in the snapshot's phase is paused; one a person already paused,
    stopped or moved to a new phase is left as it is.
    """
    if not snapshot.results:
        return []
    results = snapshot_results(snapshot=snapshot)
    breaker = results.breaker
    if breaker is None or not breaker.tripped:
        return []
    experiment = Experiment.objects.select_for_update().get(pk=snapshot.experiment_id)
    if experiment.status != ExperimentStatus.RUNNING or experiment.phase != snapshot.phase:
        return []
    done = set(
        Notification.objects.filter(
            experiment=experiment, condition__startswith=f"phase-{snapshot.phase}:breaker:"
        ).values_list("condition", flat=True)
    )
    new = [
        row
        for row in breaker.harmful
        if breaker_condition(phase=snapshot.phase, metric=row.metric, variant=row.variant)
        not in done
    ]
    if not new:
        return []
    experiment_transition(
        actor=Actor.system(ANALYSIS_ACTOR),
        experiment=experiment,
        action="pause",
        params={"reason": _reason(new, alpha=breaker.alpha, snapshot=snapshot)},
    )
    logger.warning(
        "experiment %s paused by the guardrail breaker (snapshot %s)", experiment.key, snapshot.id
    )
    notes = [
        condition_notify(
            snapshot=snapshot,
            item=_item(row, snapshot=snapshot, alpha=breaker.alpha, key=experiment.key),
        )
        for row in new
    ]
    return [n for n in notes if n is not None]
