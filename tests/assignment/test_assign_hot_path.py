"""The assign hot path for an already exposed unit: no database query and (almost) no Redis
round trip per call once the process's caches are warm, with every limit still on; a repeated
body is answered again from this process's memo, still recording exposures and following
definition changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assignment.models import Exposure
from assignment.services.exposures import exposure_cache_clear
from core.api_keys import api_key_create
from core.throttling import rate_limits_reset
from tests.factories import started_experiment
from tests.hardening.test_faults import PrivateRedis, needs_redis_server

# Real commits: an exposure is remembered once its write commits.
pytestmark = pytest.mark.django_db(transaction=True)


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


@needs_redis_server
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


def _post(client: Client, body: bytes, content_type: str = "application/json") -> Any:
    return client.post("/api/v1/assign", body, content_type=content_type)


def test_assign__same_body_repeated_then_experiment_stopped__answer_follows_the_change() -> None:
    from core.actors import Actor
    from experiments.services.lifecycle import experiment_transition

    experiment = started_experiment(key="repeat")
    _, raw = api_key_create(name="app", role="app")
    app = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = json.dumps({"unit_id": "u-7", "experiments": ["repeat"]}).encode()
    first = _post(app, body).json()
    assert first["assignments"][0]["reason"] == "hashed"
    assert _post(app, body).json() == first
    experiment_transition(actor=Actor.system("test"), experiment=experiment, action="stop")
    after = _post(app, body).json()["assignments"][0]
    assert after["reason"] == "not_running"
    assert after["in_experiment"] is False


def test_assign__same_body_after_exposures_forgotten__exposure_written_again() -> None:
    started_experiment(key="rewrite")
    _, raw = api_key_create(name="app", role="app")
    app = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = json.dumps({"unit_id": "u-8", "experiments": ["rewrite"]}).encode()
    assert _post(app, body).status_code == 200
    Exposure.objects.filter(unit_id="u-8").delete()
    exposure_cache_clear()
    assert _post(app, body).status_code == 200
    assert Exposure.objects.filter(unit_id="u-8").count() == 1


def test_assign__same_body_answered_then_sent_as_text__400_content_type() -> None:
    started_experiment(key="typed")
    _, raw = api_key_create(name="app", role="app")
    app = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = json.dumps({"unit_id": "u-9", "experiments": ["typed"]}).encode()
    assert _post(app, body).status_code == 200
    refused = _post(app, body, content_type="text/plain")
    assert refused.status_code == 400
    assert "Content-Type: application/json" in refused.json()["non_field_errors"][0]
