"""Event retention: purge raw events older than ``VERDICT_EVENT_RETENTION_DAYS``, in batches,
once no analysis can still read them.

Snapshots keep per-variant sufficient statistics, never raw events, so an event may go once its
contribution is either stored in a snapshot for good or can never be counted. The rule:

An experiment phase is **open** while its results can still change:

- the current phase of a running or paused experiment (every refresh re-reads raw events);
- the current phase of a stopped, concluded or archived experiment that has no ``ok`` snapshot
  of that phase as of its stop time or later (its final snapshot is not stored yet).

Earlier phases are closed (refreshes only compute the current phase; their snapshots stay as
they are), and so is a stopped experiment's phase once its final snapshot is stored.

An event older than the retention cutoff is **kept in snapshots** (purgeable) when no open
phase reads it: its unit has no exposure in an open phase whose analysis windows contain the
event, i.e. ``first_exposed_at - pre <= timestamp < first_exposed_at + post``, with ``pre``
and ``post`` the widest spans of the experiment's metrics (CUPED pre-period, metric window,
retention day). Units a running experiment has not exposed yet can still read events from
before their exposure through a CUPED pre-period, so the cutoff is moved back to
``now - pre`` for the widest such pre-period of any running or paused experiment.

A metric linked to a live experiment later, with a wider window than every metric it had,
counts only the events still stored.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from analysis.aggregation.inputs import metric_specs
from analysis.models import ResultSnapshot, SnapshotStatus
from assignment.models import Event, Exposure
from experiments.models import Experiment, ExperimentStatus

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5_000
LIVE = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)
ENDED = (ExperimentStatus.STOPPED, ExperimentStatus.CONCLUDED, ExperimentStatus.ARCHIVED)


@dataclass(frozen=True)
class OpenPhase:
    """An experiment phase whose results can still change, with its metrics' widest spans."""

    experiment_id: int
    phase: int
    pre: dt.timedelta
    post: dt.timedelta
    live: bool


@dataclass(frozen=True)
class PurgeReport:
    cutoff: dt.datetime
    deleted: int
    batches: int
    open_phases: int


def _has_final_snapshot(experiment: Experiment) -> bool:
    if experiment.stopped_at is None:
        return True  # archived from draft: never exposed anyone
    return ResultSnapshot.objects.filter(
        experiment=experiment,
        phase=experiment.phase,
        status=SnapshotStatus.OK,
        as_of__gte=experiment.stopped_at,
    ).exists()


def open_phases() -> list[OpenPhase]:
    """The experiment phases whose results can still change (see the module docstring)."""
    out = []
    for experiment in Experiment.objects.filter(status__in=(*LIVE, *ENDED)):
        live = experiment.status in LIVE
        if not live and _has_final_snapshot(experiment):
            continue
        specs = metric_specs(experiment)
        out.append(
            OpenPhase(
                experiment_id=experiment.id,
                phase=experiment.phase,
                pre=dt.timedelta(seconds=max((m.pre_span() for m in specs), default=0)),
                post=dt.timedelta(seconds=max((m.post_span() for m in specs), default=0)),
                live=live,
            )
        )
    return out


def retention_cutoff(*, days: float, now: dt.datetime, phases: list[OpenPhase]) -> dt.datetime:
    """Events before this time may be purged: ``now - days``, moved back by the widest CUPED
    pre-period of a live experiment (its future exposures read events from before them)."""
    pre = max((p.pre for p in phases if p.live), default=dt.timedelta(0))
    return min(now - dt.timedelta(days=days), now - pre)


def _read_by(phase: OpenPhase) -> Exists:
    """Whether an event (the outer row) lies in an analysis window of ``phase``."""
    stamp = OuterRef("timestamp")
    return Exists(
        Exposure.objects.filter(
            experiment_id=phase.experiment_id,
            phase=phase.phase,
            unit_id=OuterRef("unit_id"),
            first_exposed_at__gt=ExpressionWrapper(
                stamp - phase.post, output_field=DateTimeField()
            ),
            first_exposed_at__lte=ExpressionWrapper(
                stamp + phase.pre, output_field=DateTimeField()
            ),
        )
    )


def events_purgeable(*, cutoff: dt.datetime, phases: list[OpenPhase]) -> QuerySet[Event]:
    """Events before ``cutoff`` that no open phase reads: their statistics are kept in
    snapshots, or no analysis counts them."""
    events = Event.objects.filter(timestamp__lt=cutoff)
    if phases:
        read = Q(_read_by(phases[0]))
        for phase in phases[1:]:
            read |= Q(_read_by(phase))
        events = events.exclude(read)
    return events


def events_purge(
    *,
    days: float,
    batch_size: int = DEFAULT_BATCH_SIZE,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete purgeable events older than ``days`` in batches of at most ``batch_size`` ids
    (one transaction each, so a long purge never holds a long lock). ``dry_run`` counts them."""
    if days <= 0:
        raise ValueError("days must be positive")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    phases = open_phases()
    cutoff = retention_cutoff(days=days, now=now, phases=phases)
    if dry_run:
        count = events_purgeable(cutoff=cutoff, phases=phases).count()
        return PurgeReport(cutoff=cutoff, deleted=count, batches=0, open_phases=len(phases))
    deleted = batches = 0
    last_id = 0
    while True:
        ids = list(
            Event.objects.filter(timestamp__lt=cutoff, id__gt=last_id)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            break
        last_id = ids[-1]
        with transaction.atomic():
            # The rule is checked again inside the batch's transaction.
            count, _ = events_purgeable(cutoff=cutoff, phases=phases).filter(id__in=ids).delete()
        deleted += count
        batches += 1
    logger.info("purged %s events before %s in %s batches", deleted, cutoff.isoformat(), batches)
    return PurgeReport(cutoff=cutoff, deleted=deleted, batches=batches, open_phases=len(phases))
