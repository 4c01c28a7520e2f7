"""Celery tasks: refresh idempotence and failure, due refreshes, a stopped experiment's final
refresh."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from analysis.models import ResultSnapshot
from analysis.selectors import snapshot_latest
from analysis.tasks import refresh_due, refresh_experiment
from config.celery import app
from experiments.models import Experiment, Metric
from tests.analysis.helpers import T0, Data, experiment_with, metric
from tests.factories import ExperimentFactory

H = dt.timedelta(hours=1)


def _exp(**fields) -> Experiment:
    exp = experiment_with([(metric("conv"), "primary")], **fields)
    d = Data(exp)
    for i in range(20):
        d.expose(f"u{i}", "treatment" if i % 2 else "control", T0)
        if i % 4 == 0:
            d.event(f"u{i}", T0 + H)
    d.save()
    return exp


def test_beat_schedule__configured__refresh_and_schedule_tasks_every_minute() -> None:
    app.loader.import_default_modules()  # what a worker does at start: every app's tasks
    entries = {e["task"]: e["schedule"] for e in app.conf.beat_schedule.values()}
    assert entries["analysis.refresh_due"] == 60.0
    assert entries["experiments.apply_schedules"] == 60.0
    assert {"analysis.refresh_due", "experiments.apply_schedules"} <= set(app.tasks)


def test_refresh_task__run_twice_with_same_slot__one_snapshot(db: None) -> None:
    exp = _exp()
    slot = (T0 + 5 * H).isoformat()
    first = refresh_experiment.delay(exp.id, slot).get()
    second = refresh_experiment.delay(exp.id, slot).get()
    assert first == second == {"status": "ok", "snapshot_id": first["snapshot_id"]}
    assert ResultSnapshot.objects.filter(experiment=exp).count() == 1


def test_refresh_task__failing_refresh__recorded_and_last_good_snapshot_kept(db: None) -> None:
    exp = _exp()
    good = refresh_experiment.delay(exp.id, (T0 + 5 * H).isoformat()).get()
    exp.metric_links.create(
        metric=Metric.objects.create(key="broken", name="b", type="ratio"), role="secondary"
    )
    failed = refresh_experiment.delay(exp.id, (T0 + 6 * H).isoformat()).get()
    assert failed["status"] == "failed"
    assert failed["error"]
    assert snapshot_latest(experiment=exp).id == good["snapshot_id"]
    # Not retried: a definition error does not fix itself.
    assert ResultSnapshot.objects.filter(experiment=exp, status="failed").count() == 1


def test_refresh_task__unknown_experiment__nothing_stored(db: None) -> None:
    assert refresh_experiment.delay(999_999).get()["status"] == "missing"


def test_refresh_due__running_experiments__refreshed_per_their_interval(db: None) -> None:
    fresh = _exp(refresh_minutes=15)
    stale = _exp(refresh_minutes=5)
    never = _exp()
    paused_or_draft = ExperimentFactory()
    now = timezone.now()
    for exp, minutes_ago in ((fresh, 10), (stale, 10)):
        ResultSnapshot.objects.create(
            experiment=exp,
            phase=1,
            status="ok",
            as_of=now - dt.timedelta(minutes=minutes_ago),
            computed_at=now - dt.timedelta(minutes=minutes_ago),
        )
    queued = refresh_due.delay().get()
    assert sorted(queued) == sorted([stale.id, never.id])
    assert paused_or_draft.id not in queued
    assert ResultSnapshot.objects.filter(experiment=never, status="ok").count() == 1
    assert ResultSnapshot.objects.filter(experiment=fresh).count() == 1


def test_refresh_due__experiment_stopped_since_last_snapshot__gets_a_final_refresh(
    db: None,
) -> None:
    from core.actors import Actor
    from experiments.services.lifecycle import experiment_transition

    exp = _exp()
    refresh_experiment.delay(exp.id, (T0 + 10 * H).isoformat())
    experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    assert exp.id in refresh_due.delay().get()
    assert ResultSnapshot.objects.filter(experiment=exp, status="ok").count() == 2
    assert exp.id not in refresh_due.delay().get()  # once only
