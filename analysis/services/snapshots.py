"""Compute, store and recompute result snapshots."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import traceback
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from analysis.engine import analyze
from analysis.engine.contract import Plan, SnapshotInputs
from analysis.engine.stats import ENGINE_VERSION
from analysis.models import ResultSnapshot, SnapshotStatus
from analysis.warehouse.routing import experiment_inputs_routed
from experiments.models import Experiment

logger = logging.getLogger(__name__)


class RefreshFailed(Exception):
    """A refresh raised; the failure is stored as ``snapshot`` (status failed)."""

    def __init__(self, snapshot: ResultSnapshot, cause: BaseException):
        self.snapshot = snapshot
        self.cause = cause
        super().__init__(f"refresh of experiment {snapshot.experiment_id} failed: {cause!r}")


def experiment_plan(experiment: Experiment) -> dict[str, Any]:
    """The analysis plan in force, as stored with every snapshot (with the guardrails' harm
    thresholds when the guardrail breaker is on)."""
    plan = {
        **experiment.analysis_plan,
        "planned_sample_size": experiment.planned_sample_size,
        "planned_duration_days": experiment.planned_duration_days,
    }
    if experiment.guardrail_auto_pause:
        plan["harm_thresholds"] = {
            link.metric.key: link.harm_threshold
            for link in experiment.metric_links.select_related("metric")
            if link.role == "guardrail" and link.harm_threshold is not None
        }
    return plan


def _json(value: Any) -> Any:
    # What the database will give back, so results computed now (from the inputs read back)
    # equal a later recompute.
    return json.loads(json.dumps(value))


def _existing(experiment: Experiment, as_of: dt.datetime) -> ResultSnapshot | None:
    return ResultSnapshot.objects.filter(
        experiment=experiment, phase=experiment.phase, as_of=as_of, status=SnapshotStatus.OK
    ).first()


def experiment_refresh(
    *, experiment: Experiment, as_of: dt.datetime | None = None, segments: bool = True
) -> ResultSnapshot:
    """Aggregate the experiment's current phase up to ``as_of`` (default now), from its data
    source (``analysis.warehouse.routing``), and store a snapshot. Idempotent: an ``ok``
    snapshot for the same phase and ``as_of`` is returned as is. On error a ``failed`` snapshot
    is stored and ``RefreshFailed`` raised; earlier ``ok`` snapshots are untouched, so the API
    keeps serving the last good one. ``segments=False`` leaves the segment breakdown out (a
    history's past days).
    """
    as_of = (as_of or timezone.now()).astimezone(dt.UTC)
    existing = _existing(experiment, as_of)
    if existing is not None:
        return existing
    started = time.perf_counter()
    plan = experiment_plan(experiment)
    try:
        inputs = _json(
            experiment_inputs_routed(
                experiment=experiment, as_of=as_of, segments=segments
            ).to_dict()
        )
        computed_at = timezone.now()
        results = analyze(
            SnapshotInputs.from_dict(inputs),
            Plan.from_dict(plan),
            computed_at=computed_at.isoformat(),
            engine_version=ENGINE_VERSION,
        ).to_dict()
    except Exception as exc:
        logger.exception("refresh of experiment %s failed", experiment.key)
        failed = ResultSnapshot.objects.create(
            experiment=experiment,
            phase=experiment.phase,
            status=SnapshotStatus.FAILED,
            as_of=as_of,
            computed_at=timezone.now(),
            duration_seconds=time.perf_counter() - started,
            engine_version=ENGINE_VERSION,
            plan=plan,
            error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000],
        )
        raise RefreshFailed(failed, exc) from exc
    try:
        with transaction.atomic():
            return ResultSnapshot.objects.create(
                experiment=experiment,
                phase=experiment.phase,
                status=SnapshotStatus.OK,
                as_of=as_of,
                computed_at=computed_at,
                duration_seconds=time.perf_counter() - started,
                engine_version=ENGINE_VERSION,
                plan=plan,
                inputs=inputs,
                results=results,
            )
    except IntegrityError:
        # Another worker stored the same snapshot first.
        existing = _existing(experiment, as_of)
        if existing is None:
            raise
        return existing


def snapshot_recompute(*, snapshot: ResultSnapshot) -> dict[str, Any]:
    """The results recomputed from the snapshot's stored inputs and plan alone, in the current
    schema version (``analysis.engine.contract.RESULTS_SCHEMA_VERSION``)."""
    return analyze(
        SnapshotInputs.from_dict(snapshot.inputs),
        Plan.from_dict(snapshot.plan),
        computed_at=snapshot.computed_at.astimezone(dt.UTC).isoformat(),
        engine_version=snapshot.engine_version,
    ).to_dict()
