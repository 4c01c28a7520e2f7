"""Faults with real services: Redis stopped, PostgreSQL connections cut, a worker killed.

Each test starts what it breaks: a private ``redis-server`` on a free port (stopped and started
again by the test), the CI PostgreSQL with ``pg_terminate_backend`` on the test database's
connections, and a Celery worker subprocess on a private Redis broker (killed with SIGKILL).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from analysis.models import ResultSnapshot, SnapshotStatus
from assignment.models import Event, Exposure
from core.api_keys import api_key_create
from tests.factories import started_experiment

ROOT = Path(__file__).resolve().parents[2]
needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server binary"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A ``redis-server`` subprocess on its own port, without persistence."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
def redis_cache(settings: Any, private_redis: PrivateRedis) -> PrivateRedis:
    """The default cache (definitions version counter) on the private Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    return private_redis


def _client(role: str) -> APIClient:
    _, raw = api_key_create(name=f"fault-{role}-{uuid.uuid4().hex[:6]}", role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _event(unit: str, event_id: str) -> dict[str, Any]:
    moment = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    return {"event_id": event_id, "unit_id": unit, "event": "purchase", "timestamp": moment}


def _post(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


# --- Redis stopped -------------------------------------------------------------------------------


@needs_redis_server
@pytest.mark.django_db(transaction=True)
def test_redis_stopped__assign_events_and_writes__200_one_log_line_and_changes_after_return(
    redis_cache: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    exp = started_experiment(key="redis-fault")
    app, editor = _client("app"), _client("editor")
    assert _post(app, "/api/v1/assign", {"unit_id": "u-0"}).status_code == 200

    redis_cache.stop()
    with caplog.at_level(logging.WARNING, logger="assignment.definitions"):
        for i in range(30):
            assign = _post(app, "/api/v1/assign", {"unit_id": f"u-{i}"})
            assert assign.status_code == 200, assign.content
            assert assign.json()["assignments"][0]["in_experiment"]
            one = app.get("/api/v1/assign/redis-fault", {"unit_id": f"u-{i}"})
            assert one.status_code == 200, one.content
            events = _post(app, "/api/v1/events", {"events": [_event(f"u-{i}", f"e-{i}")]})
            assert events.status_code == 200, events.content
        # Writes commit and answer success although the cache cannot be told.
        patch = editor.patch(
            f"/api/v1/experiments/{exp.key}", {"name": "Renamed while Redis was down"}, "json"
        )
        assert patch.status_code == 200, patch.content
        forced = editor.post(
            f"/api/v1/experiments/{exp.key}/overrides",
            {"unit_id": "qa-unit", "variant": "treatment"},
            "json",
        )
        assert forced.status_code == 201, forced.content
    outage_lines = [r for r in caplog.records if r.name == "assignment.definitions"]
    assert len(outage_lines) == 1
    assert Event.objects.count() == 30
    assert Exposure.objects.filter(experiment=exp).count() == 30

    redis_cache.start()  # empty, as after a restart without persistence
    answer = app.get("/api/v1/assign/redis-fault", {"unit_id": "qa-unit"}).json()
    assert (answer["variant"], answer["reason"]) == ("treatment", "forced")


@needs_redis_server
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_redis_stopped_under_load__assign_and_events_keep_answering_200(
    redis_cache: PrivateRedis,
) -> None:
    _postgres_only()
    exp = started_experiment(key="redis-load")
    app = _client("app")
    # The first request of a process imports every URL module: not part of the measurement.
    assert _post(app, "/api/v1/assign", {"unit_id": "warm-up"}).status_code == 200
    statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        client = APIClient(raise_request_exception=False)
        client.credentials(**app._credentials)
        i = 0
        try:
            while not stop.is_set():
                unit = f"w{worker}-{i}"
                a = _post(client, "/api/v1/assign", {"unit_id": unit})
                e = _post(client, "/api/v1/events", {"events": [_event(unit, f"{unit}-e")]})
                with lock:
                    statuses.extend((a.status_code, e.status_code))
                i += 1
        finally:
            connections.close_all()

    def answered_at_least(count: int) -> None:
        """Wait until the load has been answered ``count`` times (however slow the machine)."""
        deadline = time.monotonic() + 60
        while len(statuses) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    answered_at_least(20)
    before = len(statuses)
    redis_cache.stop()
    # Answers keep coming while Redis is down: 40 more, however long they take.
    answered_at_least(before + 40)
    during = len(statuses)
    exp.overrides.create(unit_id="qa", variant=exp.variants.get(key="treatment"))
    redis_cache.start()
    answered_at_least(during + 20)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    counts = {code: statuses.count(code) for code in set(statuses)}
    print(f"\nRedis fault: {len(statuses)} answers, {during - before} while Redis was stopped;")
    print(f"by status: {counts}")
    assert during >= before + 40 and len(statuses) >= during + 20
    assert set(statuses) == {200}
    answer = app.get("/api/v1/assign/redis-load", {"unit_id": "qa"}).json()
    assert answer["reason"] == "forced"


# --- PostgreSQL connections cut ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_connections_cut_under_load__json_503_and_retries_store_each_once() -> None:
    _postgres_only()
    exp = started_experiment(key="pg-fault")
    app = _client("app")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        main_pid = cursor.fetchone()[0]
    failures: list[tuple[int, str, str | None]] = []
    acked_events: list[str] = []
    acked_units: list[str] = []
    lock = threading.Lock()
    loaders_done = threading.Event()
    terminated = [0]

    def until_acknowledged(client: APIClient, url: str, body: Any) -> Any:
        for _ in range(200):
            response = _post(client, url, body)
            if response.status_code == 200:
                return response
            with lock:
                failures.append(
                    (
                        response.status_code,
                        response.get("Content-Type", ""),
                        response.get("Retry-After"),
                    )
                )
            time.sleep(0.02)
        raise AssertionError(f"never acknowledged: {response.status_code} {response.content!r}")

    def load(worker: int) -> None:
        client = APIClient(raise_request_exception=False)
        client.credentials(**app._credentials)
        try:
            for i in range(25):
                unit = f"w{worker}-{i}"
                batch = [_event(unit, f"{unit}-{k}") for k in range(10)]
                until_acknowledged(client, "/api/v1/events", {"events": batch})
                until_acknowledged(client, "/api/v1/assign", {"unit_id": unit})
                with lock:
                    acked_events.extend(e["event_id"] for e in batch)
                    acked_units.append(unit)
        finally:
            connections.close_all()

    def killer() -> None:
        try:
            with connections["default"].cursor() as cursor:
                while not loaders_done.is_set():
                    cursor.execute(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND pid <> %s",
                        [main_pid],
                    )
                    terminated[0] += cursor.fetchone()[0]
                    time.sleep(0.25)  # waves, as during a restart
        finally:
            connections.close_all()

    kill_thread = threading.Thread(target=killer)
    loaders = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    kill_thread.start()
    for thread in loaders:
        thread.start()
    for thread in loaders:
        thread.join(timeout=120)
    loaders_done.set()
    kill_thread.join(timeout=10)

    print(
        f"\nPostgreSQL fault: {terminated[0]} connections terminated, {len(failures)} answers "
        f"503, {len(acked_events)} events and {len(acked_units)} exposures acknowledged"
    )
    assert terminated[0] > 0 and failures, "the fault never hit a request"
    assert {status for status, _, _ in failures} == {503}
    assert all(ctype.startswith("application/json") for _, ctype, _ in failures)
    assert all(retry_after and retry_after.isdigit() for _, _, retry_after in failures)
    assert len(acked_events) == 4 * 25 * 10
    stored = list(Event.objects.filter(event_id__in=acked_events).values_list("event_id"))
    assert len(stored) == len(set(stored)) == len(acked_events)
    exposed = list(Exposure.objects.filter(experiment=exp).values_list("unit_id", flat=True))
    assert sorted(exposed) == sorted(acked_units)


# --- a worker killed mid-refresh -----------------------------------------------------------------


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _worker(broker_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        # Test settings with a 3 s visibility timeout and a sweep for abandoned tasks every
        # second (see the module).
        "DJANGO_SETTINGS_MODULE": "tests.hardening.worker_settings",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "warning"]
    log = open(os.environ.get("VERDICT_FAULT_WORKER_LOG", os.devnull), "ab")  # noqa: SIM115
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


WORKER_START_SECONDS = 180


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _reset_broker_connections(app: Any) -> None:
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@needs_redis_server
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_refresh__previous_snapshot_intact_and_next_refresh_completes(
    private_redis: PrivateRedis,
) -> None:
    _postgres_only()
    import redis

    from analysis.services.snapshots import experiment_refresh
    from analysis.tasks import refresh_experiment
    from config.celery import app
    from tests.analysis.helpers import T0, Data, experiment_with, metric

    exp = experiment_with([(metric("conv"), "primary")])
    data = Data(exp)
    for i in range(40):
        data.expose(f"u{i}", "treatment" if i % 2 else "control", T0)
        if i % 3 == 0:
            data.event(f"u{i}", T0 + dt.timedelta(hours=1))
    data.save()
    previous = experiment_refresh(experiment=exp, as_of=T0 + dt.timedelta(days=1))
    killed_slot = T0 + dt.timedelta(days=2)
    next_slot = T0 + dt.timedelta(days=3)

    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=private_redis.url, task_always_eager=False)
    _reset_broker_connections(app)
    workers: list[subprocess.Popen[bytes]] = []
    held = threading.Event()
    release = threading.Event()

    def hold_snapshot_table() -> None:
        """Block every refresh at its first snapshot read, so the worker is mid-task."""
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("LOCK TABLE analysis_resultsnapshot IN ACCESS EXCLUSIVE MODE")
                held.set()
                release.wait(timeout=WORKER_START_SECONDS + 60)
                cursor.execute("COMMIT")
        finally:
            connections.close_all()

    locker = threading.Thread(target=hold_snapshot_table)
    try:
        locker.start()
        assert held.wait(timeout=60)
        workers.append(_worker(private_redis.url))
        refresh_experiment.apply_async((exp.id, killed_slot.isoformat()))

        def worker_waits_on_lock() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE %s",
                    ["%analysis_resultsnapshot%"],
                )
                return cursor.fetchone()[0] > 0

        # Generous bounds: a worker starting on a loaded 2-core machine may take a minute.
        assert _wait_for(worker_waits_on_lock, WORKER_START_SECONDS), "no refresh was started"
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=10)
        release.set()
        locker.join(timeout=10)

        # The killed refresh left nothing behind and the last good snapshot still stands; its
        # task is still in the broker, unacknowledged.
        assert redis.Redis.from_url(private_redis.url).hlen("unacked") == 1
        rows = ResultSnapshot.objects.filter(experiment=exp)
        assert list(rows.values_list("id", flat=True)) == [previous.id]
        kept = ResultSnapshot.objects.get(pk=previous.id)
        assert (kept.status, kept.results) == (SnapshotStatus.OK, previous.results)

        # A new worker takes the unacknowledged task back once the visibility timeout (3 s)
        # has passed (it sweeps every second: worker_settings.py), and a new refresh completes
        # too. Polled, with a bound far above the few seconds this takes.
        workers.append(_worker(private_redis.url))
        refresh_experiment.apply_async((exp.id, next_slot.isoformat()))

        def both_done() -> bool:
            ok = rows.filter(status=SnapshotStatus.OK)
            return ok.filter(as_of__in=[killed_slot, next_slot]).count() == 2

        assert _wait_for(both_done, WORKER_START_SECONDS + 60), list(
            rows.values_list("as_of", "status")
        )
        assert rows.filter(as_of=killed_slot).count() == 1
        assert not rows.filter(status=SnapshotStatus.FAILED).exists()
    finally:
        release.set()
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(timeout=10)
        app.conf.update(saved)
        _reset_broker_connections(app)


# --- the broker down -----------------------------------------------------------------------------


@needs_redis_server
@pytest.mark.django_db(transaction=True)
def test_refresh__broker_down__503_with_reason_and_nothing_claimed(
    private_redis: PrivateRedis,
) -> None:
    import redis

    from config.celery import app

    exp = started_experiment(key="broker-fault")
    editor = _client("editor")
    url = f"/api/v1/experiments/{exp.key}/results/refresh"
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=private_redis.url, task_always_eager=False)
    _reset_broker_connections(app)
    try:
        queued = editor.post(url)
        assert queued.status_code == 202, queued.content
        assert redis.Redis.from_url(private_redis.url).llen("celery") == 1

        private_redis.stop()
        started = time.monotonic()
        down = editor.post(url)
        assert time.monotonic() - started < 10
        assert down.status_code == 503, down.content
        assert down["Content-Type"].startswith("application/json")
        assert down["Retry-After"].isdigit()
        assert "not queued" in down.json()["broker"][0]

        private_redis.start()
        again = editor.post(url)
        assert again.status_code == 202, again.content
        assert redis.Redis.from_url(private_redis.url).llen("celery") == 1
    finally:
        app.conf.update(saved)
        _reset_broker_connections(app)
    assert not ResultSnapshot.objects.filter(experiment=exp).exists()
