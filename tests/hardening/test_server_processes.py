"""The processes as an operator runs them: gunicorn's own error answers and every process's
log lines.

- Requests gunicorn refuses before Django sees them (a request line too long, a bad
  ``Content-Length``) are answered in JSON, like every other API error, when gunicorn runs with
  ``-c python:config.gunicorn`` (docs/deploy.md).
- The Celery worker and beat, under production settings, write JSON lines only (started with
  ``--quiet``, as docs/deploy.md says, so Celery's printed banner is left out).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening.server import ROOT, Server, gunicorn, server_env

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with gunicorn(tmp_path_factory.mktemp("processes"), workers=1) as running:
        yield running


def _raw(server: Server, request: bytes) -> tuple[str, dict[str, str], bytes]:
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def test_gunicorn__request_line_too_long__json_414(server: Server) -> None:
    status, headers, body = _raw(
        server,
        b"GET /api/v1/experiments?x=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    )
    assert status.startswith("HTTP/1.1 414")
    assert headers["content-type"] == "application/json"
    assert "URI Too Long" in json.loads(body)["detail"]


def test_gunicorn__content_length_not_a_number__json_400(server: Server) -> None:
    status, headers, body = _raw(
        server,
        b"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n{}",
    )
    assert status.startswith("HTTP/1.1 400")
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["detail"]


def test_gunicorn__long_path_under_the_limit__reaches_django_json_404(server: Server) -> None:
    status, headers, body = _raw(
        server, b"GET /api/v1/" + b"a" * 6000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    assert status.startswith("HTTP/1.1 404")
    assert headers["content-type"].startswith("application/json")


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


def _celery(folder: Path, *args: str, seconds: float) -> list[str]:
    env = server_env(folder, "config.settings.production", {"CELERY_BROKER_URL": REDIS_URL})
    env.pop("VERDICT_LOG_FORMAT", None)  # production's default: JSON
    # The sandbox runs as root, where Celery warns before logging is set up; a deployment runs
    # the worker as its own user (docs/deploy.md).
    env["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser privileges"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    log = folder / f"{args[0]}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "--quiet", *args, "-l", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        time.sleep(seconds)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return [line for line in log.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize(
    "args",
    [
        ("worker", "--concurrency", "1", "--queues", "verdict-log-test", "--without-mingle"),
        ("beat", "--schedule", "{folder}/beat-schedule"),
    ],
)
def test_celery__worker_and_beat__json_lines_only(tmp_path: Path, args: tuple[str, ...]) -> None:
    if not _redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    lines = _celery(tmp_path, *(a.format(folder=tmp_path) for a in args), seconds=6)
    # Celery prints one notice itself when it is told to stop (not a log record).
    records = [line for line in lines if line != "worker: Warm shutdown (MainProcess)"]
    assert records, lines
    parsed = [json.loads(line) for line in records]
    assert all({"event", "level", "timestamp"} <= set(record) for record in parsed)
    assert any(record["logger"].startswith("celery") for record in parsed)
