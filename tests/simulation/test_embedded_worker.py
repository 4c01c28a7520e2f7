"""Under the embedded default (SQLite, no broker) the dev server's worker and beat refresh
running experiments on their schedule, and a requested refresh runs in the worker."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import timezone

from analysis.embedded_worker import EmbeddedWorker, embedded_worker_start
from analysis.models import ResultSnapshot
from analysis.services.snapshots import experiment_refresh
from analysis.simulation import SCENARIOS, simulate
from experiments.models import Experiment

from .helpers import demo_experiment


@pytest.fixture
def worker(transactional_db: None) -> Iterator[EmbeddedWorker]:
    assert settings.CELERY_TASK_ALWAYS_EAGER  # the embedded default: no broker configured
    handle = embedded_worker_start(beat_every=0.5, first_beat=0.2)
    yield handle
    handle.stop()


def _wait_for(condition, seconds: float = 30.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_embedded_worker__running_experiment_due__snapshot_advances_automatically(worker) -> None:
    experiment = demo_experiment("checkout-aa")
    Experiment.objects.filter(pk=experiment.pk).update(refresh_minutes=1)
    simulate(experiment=experiment, scenario=SCENARIOS["checkout-aa"], users=300, days=5, seed=2)
    old = experiment_refresh(experiment=experiment, as_of=timezone.now() - dt.timedelta(minutes=3))
    ResultSnapshot.objects.filter(pk=old.pk).update(
        computed_at=timezone.now() - dt.timedelta(minutes=3)
    )

    def advanced() -> bool:
        return ResultSnapshot.objects.filter(experiment=experiment, as_of__gt=old.as_of).exists()

    assert _wait_for(advanced), f"no new snapshot; beat sent {worker.sent}"
    latest = ResultSnapshot.objects.filter(experiment=experiment).latest("as_of")
    assert latest.status == "ok" and sum(latest.inputs["units"].values()) > 0
    assert "analysis-refresh-due" in worker.sent


@pytest.mark.django_db(transaction=True)
def test_embedded_worker__refresh_requested_over_api__computed_by_the_worker(
    worker, client_for
) -> None:
    experiment = demo_experiment("checkout-aa")
    simulate(experiment=experiment, scenario=SCENARIOS["checkout-aa"], users=200, days=5, seed=4)
    response = client_for("editor").post(f"/api/v1/experiments/{experiment.key}/results/refresh")
    assert response.status_code == 202
    assert not worker.app.conf.task_always_eager  # published to the worker, not run inline
    assert _wait_for(lambda: ResultSnapshot.objects.filter(experiment=experiment).exists())


def test_embedded_worker_autostart__not_the_dev_server__starts_nothing() -> None:
    from analysis import embedded_worker

    for argv in (["manage.py", "migrate"], ["manage.py", "runserver"]):  # parent of the reloader
        assert embedded_worker.embedded_worker_autostart(argv) is None
        assert embedded_worker._running is None
