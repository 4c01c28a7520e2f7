"""Refreshes and schedules with no broker installed: a Celery worker and beat inside the dev server.

With no ``CELERY_BROKER_URL`` (the embedded default), ``manage.py runserver`` (what ``make run``
serves) starts, in its serving process:

- a real Celery worker in a background thread, consuming kombu's in-process ``memory://``
  broker: a requested refresh (``POST .../results/refresh``) is published there and computed
  by the worker, never inside the page or API request that asked for it;
- a beat thread that sends each entry of the app's beat schedule (scheduled starts and stops
  every minute, the refreshes that are due every minute, ...) to that worker.

With a broker configured (Redis), nothing is started here: the real worker and beat
(``celery -A config worker -B``) take over. Outside the dev server (tests, management commands,
gunicorn) tasks keep running eagerly in the calling process.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from kombu import pools as kombu_pools

logger = logging.getLogger(__name__)

BROKER_URL = "memory://"
FIRST_TICK_SECONDS = 5.0  # let the server finish starting before the first beat


@dataclass
class EmbeddedWorker:
    """A running worker thread and beat thread; ``stop()`` ends both and restores eager mode."""

    app: Any
    worker: Any
    threads: list[threading.Thread]
    stopping: threading.Event
    previous: dict[str, Any]
    sent: list[str] = field(default_factory=list)  # beat entries sent, oldest first

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.worker.stop(in_sighandler=False)
        for thread in self.threads:
            thread.join(timeout)
        self.app.conf.update(self.previous)
        global _running
        _running = None


_running: EmbeddedWorker | None = None


def _drop_broker_connections(app: Any) -> None:
    """Forget pooled broker connections and the queue set made under other settings, so the
    next publish and the worker use the broker and default queue configured now."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    app.__dict__.pop("amqp", None)  # cached: its queues follow the settings it first saw
    kombu_pools.reset()  # kombu's process-wide pools, keyed by connection, may be closed


def _beat(handle: EmbeddedWorker, every: float | None, first: float) -> None:
    """Send each beat entry when due: ``every`` seconds if given, else its own schedule."""
    app = handle.app
    entries = {
        name: (entry["task"], every or float(entry["schedule"]))
        for name, entry in (app.conf.beat_schedule or {}).items()
    }
    due = dict.fromkeys(entries, time.monotonic() + first)
    while not handle.stopping.is_set():
        now = time.monotonic()
        for name, (task, interval) in entries.items():
            if now >= due[name]:
                due[name] = now + interval
                try:
                    app.send_task(task)
                    handle.sent.append(name)
                except Exception:  # the next tick tries again
                    logger.exception("embedded beat could not send %s", task)
        handle.stopping.wait(min(1.0, every or 1.0))


def embedded_worker_start(
    *, beat_every: float | None = None, first_beat: float = FIRST_TICK_SECONDS
) -> EmbeddedWorker:
    """Start the worker and beat threads on the in-process broker (see the module docstring).

    ``beat_every`` replaces every beat entry's interval (seconds), for a quick demonstration.
    """
    global _running
    if _running is not None:
        return _running
    from celery.worker import WorkController

    from config.celery import app

    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    previous = {key: app.conf.get(key) for key in keys}
    app.conf.update(broker_url=BROKER_URL, task_always_eager=False, broker_transport_options={})
    _drop_broker_connections(app)
    worker = WorkController(
        app=app,
        hostname="embedded@verdict",
        pool="solo",
        concurrency=1,
        loglevel="WARNING",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    handle = EmbeddedWorker(
        app=app, worker=worker, threads=[], stopping=threading.Event(), previous=previous
    )
    handle.threads = [
        threading.Thread(target=worker.start, name="verdict-worker", daemon=True),
        threading.Thread(
            target=_beat, args=(handle, beat_every, first_beat), name="verdict-beat", daemon=True
        ),
    ]
    for thread in handle.threads:
        thread.start()
    _running = handle
    return handle


def embedded_worker_autostart(argv: list[str] | None = None) -> None:
    """Start the embedded worker (once Django is set up) when this process is the dev server
    serving requests (with autoreload, the child process) and no broker is configured."""
    argv = sys.argv if argv is None else argv
    if not settings.CELERY_TASK_ALWAYS_EAGER or argv[1:2] != ["runserver"]:
        return None
    if os.environ.get("RUN_MAIN") != "true" and "--noreload" not in argv:
        return None
    threading.Thread(target=_start_when_ready, name="verdict-worker-start", daemon=True).start()
    return None


def _start_when_ready() -> None:
    """The worker needs the app registry ready, which ``AppConfig.ready`` runs before."""
    from django.apps import apps

    while not apps.ready:
        time.sleep(0.1)
    embedded_worker_start()
    sys.stdout.write(
        "Refreshes and schedules run in this server (a Celery worker and beat on an in-process "
        "broker); set CELERY_BROKER_URL to use a real worker instead.\n"
    )
