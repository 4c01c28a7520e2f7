"""Access and abuse limits: rate limits, key management, login lockouts, body limits."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from core.api_keys import api_key_create
from core.models import ApiKey

ASSIGN = "/api/v1/assign"
EVENTS = "/api/v1/events"


def _assign(client: Client | APIClient, key: str | None = None) -> Any:
    extra = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(ASSIGN, {"unit_id": "u-1"}, content_type="application/json", **extra)


def _dead_cache(settings: Any) -> None:
    """Rate limits counted in a Redis that is not running (nothing listens on port 1)."""
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    settings.RATELIMIT_USE_CACHE = "down"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


# Per-IP limit on refused credentials


@pytest.mark.django_db
def test_garbage_keys__4000_distinct__lookups_stop_at_the_limit_then_429(settings: Any) -> None:
    settings.VERDICT_AUTH_FAILURE_RATE = "20/h"
    client = Client()
    codes: list[int] = []
    with CaptureQueriesContext(connection) as queries:
        for i in range(4000):
            codes.append(_assign(client, f"vk_garbage-{i}").status_code)
    # Fixed hourly windows: a window may end during the loop, letting 20 more through.
    assert codes[:20] == [401] * 20
    assert codes.count(401) <= 40
    assert codes.count(429) == 4000 - codes.count(401)
    assert len(queries) <= 45


@pytest.mark.django_db
def test_refused_credentials__over_limit__429_json_with_retry_after_and_valid_key_blocked_too(
    settings: Any,
) -> None:
    settings.VERDICT_AUTH_FAILURE_RATE = "3/h"
    _, raw = api_key_create(name="app", role="app")
    client = Client()
    for i in range(3):
        assert _assign(client, f"vk_wrong-{i}").status_code == 401
    answer = _assign(client, raw)
    assert answer.status_code == 429
    assert 1 <= int(answer["Retry-After"]) <= 3600
    assert "Retry after" in answer.json()["detail"]
    other_address = _assign(Client(REMOTE_ADDR="10.0.0.9"), raw)
    assert other_address.status_code == 200


@pytest.mark.django_db
def test_refused_credentials__behind_one_proxy__counted_per_forwarded_client(
    settings: Any,
) -> None:
    settings.VERDICT_AUTH_FAILURE_RATE = "2/h"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    attacker = Client(HTTP_X_FORWARDED_FOR="203.0.113.7")
    for i in range(2):
        assert _assign(attacker, f"vk_wrong-{i}").status_code == 401
    assert _assign(attacker, "vk_wrong-x").status_code == 429
    _, raw = api_key_create(name="app", role="app")
    assert _assign(Client(HTTP_X_FORWARDED_FOR="198.51.100.2"), raw).status_code == 200


# Per-key limit on the runtime endpoints


@pytest.mark.django_db
def test_runtime_key__over_its_rate__429_with_retry_after_other_keys_unaffected(
    settings: Any,
) -> None:
    settings.VERDICT_RUNTIME_KEY_RATE = "5/h"
    _, busy = api_key_create(name="busy", role="app")
    _, calm = api_key_create(name="calm", role="app")
    client = Client()
    for _ in range(3):
        assert _assign(client, busy).status_code == 200
    for _ in range(2):
        answer = client.post(EVENTS, {"events": []}, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {busy}")  # fmt: skip
        assert answer.status_code != 429
    limited = _assign(client, busy)
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/json"
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert limited.json()["detail"].startswith("This API key is over its rate limit.")
    assert _assign(client, calm).status_code == 200


@pytest.mark.django_db
def test_runtime_key__rate_limit__does_not_apply_to_the_control_plane(settings: Any) -> None:
    settings.VERDICT_RUNTIME_KEY_RATE = "1/h"
    _, raw = api_key_create(name="editor", role="editor")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for _ in range(3):
        assert client.get("/api/v1/experiments").status_code == 200


@pytest.mark.django_db
@pytest.mark.skipif(not _redis_up(), reason="needs Redis at 127.0.0.1:6379")
def test_runtime_key__counted_in_redis__shared_by_every_server_process(settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"verdict-test-{uuid.uuid4().hex}",
        },
    }
    settings.RATELIMIT_USE_CACHE = "shared"
    settings.VERDICT_RUNTIME_KEY_RATE = "2/h"
    _, raw = api_key_create(name="app", role="app")
    assert [_assign(Client(), raw).status_code for _ in range(3)] == [200, 200, 429]
    counters = redis.Redis(host="127.0.0.1", port=6379, db=0)
    prefix = settings.CACHES["shared"]["KEY_PREFIX"]
    assert list(counters.scan_iter(f"{prefix}:*"))


@pytest.mark.django_db
def test_rate_limits__cache_down__fail_open_with_one_warning(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _dead_cache(settings)
    settings.VERDICT_RUNTIME_KEY_RATE = "1/h"
    settings.VERDICT_AUTH_FAILURE_RATE = "1/h"
    _, raw = api_key_create(name="app", role="app")
    client = Client()
    with caplog.at_level(logging.WARNING, logger="core.throttling"):
        assert [_assign(client, raw).status_code for _ in range(5)] == [200] * 5
        assert {_assign(client, f"vk_wrong-{i}").status_code for i in range(5)} == {401}
    warnings = [r for r in caplog.records if r.name == "core.throttling"]
    assert len(warnings) == 1
    assert "Rate limits are off" in warnings[0].getMessage()


# Key management


@pytest.mark.django_db
def test_api_keys__admin_lists__names_roles_prefixes_never_the_key_or_its_hash(
    client_for: Callable[[str | None], APIClient],
) -> None:
    admin = client_for("admin")
    app, raw = api_key_create(name="checkout", role="app")
    answer = admin.get("/api/v1/api-keys")
    assert answer.status_code == 200
    rows = {row["name"]: row for row in answer.json()}
    assert rows["checkout"] == {
        "id": app.pk,
        "name": "checkout",
        "role": "app",
        "prefix": raw[:10],
        "created_at": rows["checkout"]["created_at"],
        "created_by": None,
        "last_used_at": None,
        "revoked_at": None,
        "active": True,
    }
    assert raw not in answer.content.decode()
    assert app.key_hash not in answer.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["editor", "viewer", "app"])
def test_api_keys__not_admin__403(client_for: Callable[[str | None], APIClient], role: str) -> None:
    app, _ = api_key_create(name="checkout", role="app")
    client = client_for(role)
    assert client.get("/api/v1/api-keys").status_code == 403
    assert client.post(f"/api/v1/api-keys/{app.pk}/revoke").status_code == 403
    assert ApiKey.objects.get(pk=app.pk).revoked_at is None


@pytest.mark.django_db
def test_api_keys__no_credentials__401(client_for: Callable[[str | None], APIClient]) -> None:
    assert client_for(None).get("/api/v1/api-keys").status_code == 401


@pytest.mark.django_db
def test_api_keys__superuser_session__may_list(client: Client) -> None:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-123456"))
    assert client.get("/api/v1/api-keys").status_code == 200


@pytest.mark.django_db
def test_api_keys__admin_revokes__key_refused_at_once_listed_inactive(
    client_for: Callable[[str | None], APIClient],
) -> None:
    admin = client_for("admin")
    app, raw = api_key_create(name="checkout", role="app")
    assert _assign(Client(), raw).status_code == 200
    answer = admin.post(f"/api/v1/api-keys/{app.pk}/revoke")
    assert answer.status_code == 200
    assert answer.json()["active"] is False
    assert _assign(Client(), raw).status_code == 401
    listed = {row["id"]: row for row in admin.get("/api/v1/api-keys").json()}
    assert listed[app.pk]["active"] is False


@pytest.mark.django_db
def test_api_keys__revoke_unknown_id__404_json(
    client_for: Callable[[str | None], APIClient],
) -> None:
    answer = client_for("admin").post("/api/v1/api-keys/999999/revoke")
    assert answer.status_code == 404
    assert "detail" in answer.json()


@pytest.mark.django_db
def test_revoked_elsewhere__key_cached_here__refused_within_the_cache_bound(settings: Any) -> None:
    """Another server revokes the key (the shared row changes); this one stops within
    VERDICT_API_KEY_CACHE_SECONDS."""
    settings.VERDICT_API_KEY_CACHE_SECONDS = 0.5
    with freeze_time() as clock:
        key, raw = api_key_create(name="checkout", role="app")
        assert _assign(Client(), raw).status_code == 200
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
        assert _assign(Client(), raw).status_code == 200  # still remembered, within the bound
        clock.tick(0.6)
        assert _assign(Client(), raw).status_code == 401


@pytest.mark.django_db
def test_revoke_api_key_command__by_prefix__revoked_and_refused(capsys: Any) -> None:
    key, raw = api_key_create(name="checkout", role="app")
    call_command("revoke_api_key", key.prefix)
    assert "is revoked" in capsys.readouterr().out
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert _assign(Client(), raw).status_code == 401


@pytest.mark.django_db
def test_revoke_api_key_command__by_id_twice__keeps_first_time(capsys: Any) -> None:
    key, _ = api_key_create(name="checkout", role="app")
    call_command("revoke_api_key", str(key.pk))
    first = ApiKey.objects.get(pk=key.pk).revoked_at
    call_command("revoke_api_key", str(key.pk))
    assert "already revoked" in capsys.readouterr().out
    assert ApiKey.objects.get(pk=key.pk).revoked_at == first


@pytest.mark.django_db
def test_revoke_api_key_command__unknown__error_names_it() -> None:
    with pytest.raises(CommandError, match="No API key with id or prefix vk_nothing"):
        call_command("revoke_api_key", "vk_nothing")


# Web login


def _login(client: Client, password: str) -> Any:
    return client.post("/accounts/login/", {"username": "pat", "password": password})


@pytest.mark.django_db
def test_login__failures_over_the_limit__locked_out_even_with_the_right_password(
    settings: Any,
) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_user("pat", password="right-password")
    client = Client()
    for _ in range(2):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    again = _login(Client(), "right-password")
    assert again.status_code == 429
    assert "_auth_user_id" not in again.client.session


@pytest.mark.django_db
def test_login__right_password_under_the_limit__signs_in(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    User.objects.create_user("pat", password="right-password")
    client = Client()
    assert _login(client, "wrong").status_code == 200
    assert _login(client, "right-password").status_code == 302
    assert client.session.get("_auth_user_id")


# Body limits


@pytest.mark.django_db
def test_assign__body_over_limit__413_json(settings: Any) -> None:
    _, raw = api_key_create(name="app", role="app")
    body = json.dumps({"unit_id": "u-1", "attributes": {"x": "a" * 3_000_000}})
    answer = Client().post(ASSIGN, body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {raw}")  # fmt: skip
    assert answer.status_code == 413
    assert "over 2,621,440 bytes" in answer.json()["detail"]


@pytest.mark.django_db
def test_events__body_over_20_mb__413_json_but_5_mb_is_read(settings: Any) -> None:
    _, raw = api_key_create(name="app", role="app")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    big = '{"events": []' + " " * (20 * 1024 * 1024) + "}"
    answer = client.post(EVENTS, big, content_type="application/json")
    assert answer.status_code == 413
    assert "detail" in answer.json()
    fits = '{"events": []' + " " * (5 * 1024 * 1024) + "}"
    assert client.post(EVENTS, fits, content_type="application/json").status_code != 413


@pytest.mark.django_db
def test_control_plane__json_body_over_limit__413_json_nothing_created(
    client_for: Callable[[str | None], APIClient],
) -> None:
    body = {"key": "big", "name": "x" * 3_000_000, "kind": "pricing"}
    answer = client_for("editor").post("/api/v1/experiments", body, format="json")
    assert answer.status_code == 413
    assert "detail" in answer.json()


@pytest.mark.django_db
def test_web_form__body_over_limit__413_json_not_an_html_400() -> None:
    answer = Client().post("/accounts/login/", {"username": "pat", "password": "x" * 3_000_000})
    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
