"""Operations: safe default settings, the deploy check, health checks, structured logs."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from core.request_logs import logging_setup

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Python in a fresh process, with no settings module chosen unless ``env`` names one."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VERDICT_"))}
    base.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **env})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


# Safe defaults

SHOW = "from django.conf import settings; print(settings.DEBUG, settings.VERDICT_LOG_FORMAT)"


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi", "config.celery"])
def test_server_entry_point__no_configuration__refuses_to_start(
    module: str, tmp_path: Path
) -> None:
    result = _run(f"import {module}; {SHOW}", tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi", "config.celery"])
def test_server_entry_point__only_a_secret_key__production_not_debug_json_logs(
    module: str, tmp_path: Path
) -> None:
    result = _run(f"import {module}; {SHOW}", tmp_path, DJANGO_SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "json"]


def test_manage_py__no_configuration__local_settings_in_debug(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "diffsettings"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VERDICT_"))}
        | {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG = True" in result.stdout


def test_deploy_check__production_settings__passes_at_warning_level(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VERDICT_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "verdict.example.com",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_production__behind_a_tls_proxy__trusts_forwarded_proto_only_when_told(
    tmp_path: Path,
) -> None:
    show = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    common = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": "k"}
    plain = _run(show, tmp_path, **common)
    proxied = _run(show, tmp_path, **common, DJANGO_SECURE_PROXY_SSL_HEADER="true")
    assert plain.stdout.strip() == "None"
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.django_db
def test_ssl_redirect__http_request__redirected_but_health_checks_answer(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    client = Client()
    assert client.get("/api/v1/experiments").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/experiments", secure=True).status_code != 301


# Health checks


def test_healthz__no_credentials__200_ok() -> None:
    answer = Client().get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz__database_up__200_lists_only_the_checks() -> None:
    answer = Client().get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_readyz__broker_and_cache_down__503_names_them_without_detail(settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    answer = Client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "unavailable", "broker": "unavailable"},
    }
    assert "127.0.0.1" not in answer.content.decode()


def test_readyz__database_unreachable__503(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(r.status_code, r.content.decode())"
    )
    result = _run(
        code,
        tmp_path,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL="postgres://verdict@127.0.0.1:1/verdict",
    )
    status, body = result.stdout.split(" ", 1)
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "unavailable", "checks": {"database": "unavailable"}}


def test_health__post__405() -> None:
    assert Client().post("/healthz").status_code == 405


# Request ids and structured logs


@pytest.fixture
def json_log() -> Any:
    """Root log lines rendered as production renders them (JSON), into a buffer."""
    config = logging_setup("json", "INFO")
    formatter = logging.config.DictConfigurator(config).configure_custom(
        dict(config["formatters"]["structured"])
    )
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("verdict.request").setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(previous)
    logging.getLogger("verdict.request").setLevel(logging.NOTSET)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db
def test_request_id__every_log_line_of_a_request__carries_the_header_value(json_log: Any) -> None:
    answer = Client().get("/api/v1/experiments/no-such-experiment")
    request_id = answer["X-Request-ID"]
    lines = _lines(json_log)
    assert len(lines) >= 2, lines  # Django's "Not Found" warning and the request line
    assert all("request_id" in line for line in lines), lines
    assert {line["request_id"] for line in lines} == {request_id}
    request_line = next(line for line in lines if line["event"] == "request")
    assert request_line["status"] == 401 or request_line["status"] == 404
    assert request_line["path"] == "/api/v1/experiments/no-such-experiment"
    assert {"timestamp", "level", "logger", "duration_ms"} <= set(request_line)


@pytest.mark.django_db
def test_request_id__two_requests__different_ids(json_log: Any) -> None:
    first = Client().get("/healthz")["X-Request-ID"]
    second = Client().get("/healthz")["X-Request-ID"]
    assert first != second
    assert len(first) == 32


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abc12345-proxy-id", True), ("short", False), ("has space in it", False), ("x" * 65, False)],
)
def test_request_id__callers_header__kept_only_when_a_plain_token(sent: str, kept: bool) -> None:
    answer = Client().get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert (answer["X-Request-ID"] == sent) is kept


def test_log_format__unknown__refused() -> None:
    with pytest.raises(ValueError, match="json or console"):
        logging_setup("xml", "INFO")
