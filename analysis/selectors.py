"""Reads of result snapshots."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import OuterRef, QuerySet, Subquery

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


def snapshot_latest_by_experiment(*, experiment_ids: Collection[int]) -> dict[int, ResultSnapshot]:
    """The newest good snapshot of each experiment that has one, by experiment id, in one query
    (without its inputs)."""
    if not experiment_ids:
        return {}
    newest = (
        ResultSnapshot.objects.filter(experiment=OuterRef("experiment"), status=SnapshotStatus.OK)
        .order_by("-computed_at", "-id")
        .values("id")[:1]
    )
    rows = ResultSnapshot.objects.filter(
        experiment_id__in=experiment_ids, status=SnapshotStatus.OK, id=Subquery(newest)
    ).defer("inputs")
    return {row.experiment_id: row for row in rows}


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
