"""Celery tasks: refresh idempotence and failure, due refreshes, scheduled start and stop."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from analysis.models import Notification, ResultSnapshot
from analysis.selectors import snapshot_latest
from analysis.tasks import apply_schedules, refresh_due, refresh_experiment
from config.celery import app
from experiments.models import AuditLogEntry, Experiment, Metric
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
    entries = {e["task"]: e["schedule"] for e in app.conf.beat_schedule.values()}
    assert entries["analysis.refresh_due"] == 60.0
    assert entries["analysis.apply_schedules"] == 60.0
    assert {"analysis.refresh_due", "analysis.apply_schedules"} <= set(app.tasks)


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


def test_apply_schedules__due_start_and_stop__applied_by_the_scheduler(db: None) -> None:
    past = timezone.now() - dt.timedelta(minutes=1)
    future = timezone.now() + dt.timedelta(hours=1)
    to_start = experiment_with([(metric("conv"), "primary")], start=False, scheduled_start_at=past)
    later = experiment_with([(metric("conv2"), "primary")], start=False, scheduled_start_at=future)
    to_stop = _exp(scheduled_stop_at=past)
    done = apply_schedules.delay().get()
    assert done["started"] == [to_start.key]
    assert done["stopped"] == [to_stop.key]
    assert Experiment.objects.get(pk=to_start.pk).status == "running"
    assert Experiment.objects.get(pk=later.pk).status == "draft"
    assert Experiment.objects.get(pk=to_stop.pk).status == "stopped"
    entry = AuditLogEntry.objects.filter(experiment=to_stop, action="stop").get()
    assert entry.actor_label == "scheduler"
    # The stopped experiment gets a final refresh.
    assert ResultSnapshot.objects.filter(experiment=to_stop, status="ok").count() == 1


def test_apply_schedules__start_not_ready__owner_told_once(db: None, django_user_model) -> None:
    owner = django_user_model.objects.create_user("pm", email="pm@example.com")
    past = timezone.now() - dt.timedelta(minutes=1)
    exp = ExperimentFactory(scheduled_start_at=past, owner=owner)  # no variants: not ready
    for _ in range(2):
        assert apply_schedules.delay().get()["not_ready"] == [exp.key]
    assert Experiment.objects.get(pk=exp.pk).status == "draft"
    assert Notification.objects.filter(experiment=exp).count() == 1
    assert len(mail.outbox) == 1
    assert "scheduled start did not happen" in mail.outbox[0].subject
