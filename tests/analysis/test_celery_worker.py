"""A refresh through a real Celery worker, a real Redis broker and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid

import pytest
from django.db import connection

from analysis.models import ResultSnapshot
from analysis.tasks import refresh_experiment
from config.celery import app
from tests.analysis.helpers import T0, Data, experiment_with, metric

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _reset_connections() -> None:
    """Drop pooled broker connections made under the previous settings (an eager ``delay``
    earlier in the session creates the pool for the default broker)."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_refresh_task__real_worker_and_redis__snapshot_stored_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the worker thread shares the test database)")
    if not _redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    from celery.contrib.testing.worker import start_worker

    exp = experiment_with([(metric("conv"), "primary")])
    d = Data(exp)
    for i in range(30):
        d.expose(f"u{i}", "treatment" if i % 2 else "control", T0)
        if i % 3 == 0:
            d.event(f"u{i}", T0 + dt.timedelta(hours=1))
    d.save()

    queue = f"verdict-test-{uuid.uuid4().hex[:8]}"
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=queue)
    _reset_connections()
    try:
        with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=10):
            slot = (T0 + dt.timedelta(days=2)).isoformat()
            # A duplicate delivery of the same slot must not store a second snapshot.
            refresh_experiment.apply_async((exp.id, slot), queue=queue)
            refresh_experiment.apply_async((exp.id, slot), queue=queue)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if ResultSnapshot.objects.filter(experiment=exp).exists():
                    time.sleep(1.0)  # let the duplicate finish too
                    break
                time.sleep(0.1)
    finally:
        app.conf.update(saved)
        _reset_connections()
    snapshots = ResultSnapshot.objects.filter(experiment=exp)
    assert [s.status for s in snapshots] == ["ok"]
    assert snapshots[0].results["units"]["total"] == 30
