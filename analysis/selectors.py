"""Reads of result snapshots."""

from __future__ import annotations

from django.db.models import QuerySet

from analysis.engine.contract import Results, results_from_stored
from analysis.models import ResultSnapshot, SnapshotStatus
from experiments.models import Experiment


def snapshot_latest(*, experiment: Experiment) -> ResultSnapshot | None:
    """The newest good snapshot (failed refreshes never replace it)."""
    return (
        ResultSnapshot.objects.filter(experiment=experiment, status=SnapshotStatus.OK)
        .order_by("-computed_at", "-id")
        .first()
    )


def snapshot_last_attempt(*, experiment: Experiment) -> ResultSnapshot | None:
    """The newest snapshot row, good or failed."""
    return (
        ResultSnapshot.objects.filter(experiment=experiment)
        .order_by("-computed_at", "-id")
        .only("id", "status", "computed_at", "error", "experiment_id")
        .first()
    )


def snapshot_history(*, experiment: Experiment, limit: int = 100) -> QuerySet[ResultSnapshot]:
    """Good snapshots, newest first."""
    return (
        ResultSnapshot.objects.filter(experiment=experiment, status=SnapshotStatus.OK)
        .order_by("-computed_at", "-id")
        .defer("inputs")[:limit]
    )


def snapshot_results(*, snapshot: ResultSnapshot) -> Results:
    """The snapshot's typed results, whatever schema version they were stored with.

    Raises ``analysis.engine.contract.UnknownSchemaVersion`` for results written by a newer Verdict.
    """
    return results_from_stored(snapshot.results)
