"""API keys remember their last use: written on first use, then at most once per key per
VERDICT_API_KEY_LAST_USED_MINUTES, and never at the cost of the request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time
from rest_framework.test import APIClient

from core.api_keys import api_key_create
from core.models import ApiKey
from tests.factories import ready_experiment

pytestmark = pytest.mark.django_db
LIST = "/api/v1/experiments"


def _client() -> tuple[APIClient, ApiKey]:
    key, raw = api_key_create(name="reporting", role="viewer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client, key


def _key_updates(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "experiments_apikey" in q["sql"]
    ]


def test_new_key__never_used__no_last_use() -> None:
    _, key = _client()
    assert key.last_used_at is None


def test_first_call__records_last_use_time() -> None:
    client, key = _client()
    assert client.get(LIST).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_calls_within_interval__one_write_only(settings) -> None:
    settings.VERDICT_API_KEY_LAST_USED_MINUTES = 5
    client, key = _client()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.get(LIST).status_code == 200
    assert len(_key_updates(queries)) == 1
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    client.get(LIST)
    key.refresh_from_db()
    assert key.last_used_at == first


def test_call_after_interval__written_again(settings) -> None:
    settings.VERDICT_API_KEY_LAST_USED_MINUTES = 0.01  # 0.6 s (the cache mark lives 1 s)
    with freeze_time() as clock:  # a movable clock: time.time, time.monotonic and now()
        client, key = _client()
        client.get(LIST)
        key.refresh_from_db()
        first = key.last_used_at
        clock.tick(1.2)
        client.get(LIST)
    key.refresh_from_db()
    assert key.last_used_at > first


def test_cache_unreachable__request_served_and_use_still_recorded(settings, caplog) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    client, key = _client()
    assert client.get(LIST).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert "cache unavailable for last-use mark" in caplog.text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigger fails it")
def test_database_refuses_the_write__request_still_served(caplog) -> None:
    ready_experiment(key="visible")
    client, key = _client()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_last_used() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'last_used_at refused'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used_at ON experiments_apikey
            FOR EACH ROW EXECUTE FUNCTION refuse_last_used();
            """
        )
    response = client.get(LIST)
    assert response.status_code == 200
    assert "visible" in response.content.decode()
    assert "last use not recorded" in caplog.text
    key.refresh_from_db()
    assert key.last_used_at is None
    assert client.get(LIST).status_code == 200  # the connection is still usable


def test_revoked_key__refused_and_no_use_recorded() -> None:
    client, key = _client()
    ApiKey.objects.filter(pk=key.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get(LIST).status_code == 401
    key.refresh_from_db()
    assert key.last_used_at is None
