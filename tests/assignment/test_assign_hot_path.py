"""The assign hot path for an already exposed unit: no database query and (almost) no Redis
round trip per call once the process's caches are warm, with every limit still on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assignment.models import Exposure
from core.api_keys import api_key_create
from core.throttling import rate_limits_reset
from tests.factories import started_experiment
from tests.hardening.test_faults import PrivateRedis, needs_redis_server

# Real commits: an exposure is remembered once its write commits.
pytestmark = [needs_redis_server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_cache(settings: Any) -> Iterator[redis.Redis]:
    """The default cache (definitions version, rate-limit counters) on a private Redis."""
    server = PrivateRedis()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    settings.RATELIMIT_USE_CACHE = "default"
    rate_limits_reset()
    client = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        yield client
    finally:
        client.close()
        rate_limits_reset()
        server.stop()


def test_assign__exposed_unit_warm_caches__no_queries_and_under_one_redis_command_per_50_calls(
    settings: Any, private_cache: redis.Redis
) -> None:
    settings.VERDICT_DEFINITIONS_CHECK_SECONDS = 1.0  # the production default
    settings.VERDICT_RUNTIME_KEY_RATE = "120000/m"
    settings.VERDICT_AUTH_FAILURE_RATE = "20/m"
    started_experiment(key="hot-path")
    _, raw = api_key_create(name="app", role="app")
    app = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"unit_id": "u-hot", "attributes": {"country": "SG"}, "experiments": ["hot-path"]}

    def assign() -> dict:
        answer = app.post("/api/v1/assign", body, content_type="application/json")
        assert answer.status_code == 200
        return answer.json()

    first = assign()  # stores the exposure, loads definitions and the key
    for _ in range(300):  # the key's blocks of reserved calls grow to hundreds
        assert assign() == first
    before = int(private_cache.info("stats")["total_commands_processed"])
    with CaptureQueriesContext(connection) as queries:
        for _ in range(1000):
            assert assign() == first
    commands = int(private_cache.info("stats")["total_commands_processed"]) - before - 1
    assert len(queries) == 0
    assert commands <= 20
    assert Exposure.objects.filter(unit_id="u-hot").count() == 1
