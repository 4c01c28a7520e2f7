"""A real gunicorn server on loopback with a fresh SQLite database, for tests of the server as
clients meet it (production settings by default, as an operator runs it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Server:
    base: str
    env: dict[str, str]
    log: Path

    def manage(self, *args: str) -> str:
        """Run ``manage.py`` against the server's database; its standard output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def api_key(self, name: str, role: str) -> str:
        return self.manage("create_api_key", name, "--role", role).strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(folder: Path, settings: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CACHE_URL", "CELERY_BROKER_URL", "DATABASE_URL", "DJANGO_NUM_PROXIES"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "DATABASE_URL": f"sqlite:///{folder / 'server.sqlite3'}",
            "PYTHONPATH": str(ROOT),
            "DJANGO_SECRET_KEY": "hardening-tests-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: no redirect to HTTPS (a TLS proxy would be in front).
            "DJANGO_SECURE_SSL_REDIRECT": "false",
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def gunicorn(
    folder: Path,
    *,
    settings: str = "config.settings.production",
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    workers: int = 2,
) -> Iterator[Server]:
    """A migrated gunicorn server; stopped on exit."""
    full_env = server_env(folder, settings, env)
    server = Server(base="", env=full_env, log=folder / "gunicorn.log")
    server.manage("migrate", "--noinput", "-v0")
    port = free_port()
    log = server.log.open("w")
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn"),
            "config.wsgi:application",
            *("--workers", str(workers), "--bind", f"127.0.0.1:{port}"),
            *("--log-level", "warning", *args),
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    log_text = server.log.read_text()
                    raise RuntimeError(f"gunicorn did not start: {log_text}") from None
                time.sleep(0.2)
        yield Server(base=f"http://127.0.0.1:{port}", env=full_env, log=server.log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
