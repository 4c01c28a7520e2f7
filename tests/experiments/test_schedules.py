"""Scheduled starts and stops, applied by the experiments beat task as the scheduler."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from experiments.models import AuditLogEntry, Experiment
from experiments.tasks import apply_schedules
from tests.analysis.helpers import experiment_with, metric
from tests.factories import ExperimentFactory


def test_apply_schedules__due_start_and_stop__applied_by_the_scheduler(db: None) -> None:
    past = timezone.now() - dt.timedelta(minutes=1)
    future = timezone.now() + dt.timedelta(hours=1)
    to_start = experiment_with([(metric("conv"), "primary")], start=False, scheduled_start_at=past)
    later = experiment_with([(metric("conv2"), "primary")], start=False, scheduled_start_at=future)
    to_stop = experiment_with([(metric("conv3"), "primary")], scheduled_stop_at=past)
    done = apply_schedules.delay().get()
    assert done["started"] == [to_start.key]
    assert done["stopped"] == [to_stop.key]
    assert Experiment.objects.get(pk=to_start.pk).status == "running"
    assert Experiment.objects.get(pk=later.pk).status == "draft"
    assert Experiment.objects.get(pk=to_stop.pk).status == "stopped"
    entry = AuditLogEntry.objects.filter(experiment=to_stop, action="stop").get()
    assert entry.actor_label == "scheduler"


def test_apply_schedules__start_not_ready__owner_told_once(db: None, django_user_model) -> None:
    owner = django_user_model.objects.create_user("pm", email="pm@example.com")
    past = timezone.now() - dt.timedelta(minutes=1)
    exp = ExperimentFactory(scheduled_start_at=past, owner=owner)  # no variants: not ready
    for _ in range(2):
        assert apply_schedules.delay().get()["not_ready"] == [exp.key]
    assert Experiment.objects.get(pk=exp.pk).status == "draft"
    failed = AuditLogEntry.objects.filter(experiment=exp, action="scheduled_start_failed")
    assert failed.count() == 1
    assert "could not start" in failed.get().message
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pm@example.com"]
    assert "scheduled start did not happen" in mail.outbox[0].subject


def test_apply_schedules__rescheduled_start_fails_again__owner_told_again(
    db: None, django_user_model
) -> None:
    owner = django_user_model.objects.create_user("pm", email="pm@example.com")
    exp = ExperimentFactory(
        scheduled_start_at=timezone.now() - dt.timedelta(minutes=5), owner=owner
    )
    apply_schedules.delay().get()
    Experiment.objects.filter(pk=exp.pk).update(
        scheduled_start_at=timezone.now() - dt.timedelta(minutes=1)
    )
    apply_schedules.delay().get()
    assert len(mail.outbox) == 2
