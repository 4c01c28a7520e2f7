"""Rate limits counted in blocks: never more than the limit across server processes, few Redis
round trips, refused-credential counts shared between processes within a second.

Each "server process" is a real forked process sharing a private ``redis-server``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client
from freezegun import freeze_time

from core.api_keys import api_key_create
from core.auth import api_key_cache_clear
from core.throttling import (
    AUTH_CHECK_SECONDS,
    address_failure_count,
    key_call_allowed,
    parse_rate,
    rate_limits_reset,
)
from tests.hardening.test_faults import PrivateRedis, needs_redis_server

pytestmark = needs_redis_server


@pytest.fixture
def shared_counters(settings: Any) -> Iterator[redis.Redis]:
    """Rate-limit counters in a private Redis (its commands can be counted exactly)."""
    server = PrivateRedis()
    server.start()
    settings.CACHES = {
        **settings.CACHES,
        "limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        },
    }
    settings.RATELIMIT_USE_CACHE = "limits"
    rate_limits_reset()
    client = redis.Redis(host="127.0.0.1", port=server.port)
    try:
        yield client
    finally:
        client.close()
        rate_limits_reset()
        server.stop()


def _commands(client: redis.Redis) -> int:
    """Commands the server processed so far, minus this INFO itself."""
    return int(client.info("stats")["total_commands_processed"])


def _calls_in_child(raw_key: str, rate: str, calls: int, queue: Any) -> None:
    from django.db import connections

    connections.close_all()  # never share the parent's database socket
    rate_limits_reset()  # a new server process knows nothing yet
    queue.put(sum(key_call_allowed(raw_key, rate) is None for _ in range(calls)))


def _in_processes(target: Any, args_list: list[tuple]) -> list[Any]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=target, args=(*args, queue)) for args in args_list]
    for p in processes:
        p.start()
    results = [queue.get(timeout=60) for _ in processes]
    for p in processes:
        p.join(timeout=30)
        assert p.exitcode == 0
    return results


def test_parse_rate__count_and_period__seconds() -> None:
    assert parse_rate("120000/m") == (120000, 60)
    assert parse_rate("20/h") == (20, 3600)
    assert parse_rate("5/10s") == (5, 10)
    assert parse_rate("1/d") == (1, 86400)
    for bad in ("", "5", "5/0s", "five/m", "5/w", "-1/m"):
        with pytest.raises(ValueError, match="rate"):
            parse_rate(bad)


def test_runtime_key__four_server_processes__never_more_than_the_limit_together(
    shared_counters: redis.Redis,
) -> None:
    rate = "1000/h"
    allowed = _in_processes(_calls_in_child, [("vk_shared-key", rate, 600)] * 4)
    # 2,400 calls over four processes: the shared counter grants at most 1,000 of them; blocks
    # one process reserved but did not use (at most 1% of the limit each) are lost.
    assert sum(allowed) <= 1000
    assert sum(allowed) >= 1000 - 4 * 10


def test_runtime_key__one_process_alone__exactly_the_limit_then_refused_until_window_end(
    shared_counters: redis.Redis,
) -> None:
    answers = [key_call_allowed("vk_alone", "250/h") for _ in range(300)]
    assert [a is None for a in answers] == [True] * 250 + [False] * 50
    refusal = answers[-1]
    assert refusal is not None
    assert 1 <= refusal.retry_after <= 3600
    response = refusal.response()
    assert response.status_code == 429
    assert response["Retry-After"] == str(refusal.retry_after)


def test_runtime_key__busy_key__one_redis_round_trip_per_block_not_per_call(
    shared_counters: redis.Redis,
) -> None:
    rate = "100000/m"  # blocks double from 1 up to 1% of the limit: 1,000 calls
    before = _commands(shared_counters)
    assert all(key_call_allowed("vk_busy", rate) is None for _ in range(5000))
    used = _commands(shared_counters) - before - 1
    # Blocks 1, 2, 4, ..., 512, then 1000 each: 15 reservations of at most 3 commands
    # (EXISTS + INCRBY, or SET NX for the window's first).
    assert used <= 45
    [counter] = shared_counters.keys("*runtime-key*")
    assert int(shared_counters.get(counter)) == 1023 + 4 * 1000  # reserved, not per call


def test_runtime_key__cache_down__served_unlimited(
    settings: Any, shared_counters: redis.Redis
) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    assert all(key_call_allowed("vk_outage", "2/h") is None for _ in range(10))


def _fail_in_child(address: str, rate: str, failures: int, queue: Any) -> None:
    from django.db import connections

    connections.close_all()
    rate_limits_reset()
    for _ in range(failures):
        address_failure_count(address, rate)
    queue.put(failures)


@pytest.mark.django_db
def test_refused_credentials__counted_by_another_process__unknown_key_refused_here_within_a_second(
    settings: Any, shared_counters: redis.Redis
) -> None:
    settings.VERDICT_AUTH_FAILURE_RATE = "5/h"
    _, raw = api_key_create(name="app", role="app")
    here = Client(REMOTE_ADDR="192.0.2.44")

    def assign(key: str) -> int:
        return here.post(
            "/api/v1/assign",
            {"unit_id": "u-1"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        ).status_code

    with freeze_time() as clock:
        assert assign(raw) == 200  # this process read the address's count: 0
        _in_processes(_fail_in_child, [("192.0.2.44", "5/h", 5)])  # another server refuses 5
        clock.tick(AUTH_CHECK_SECONDS + 0.05)
        assert assign("vk_a_guess") == 429
        # The app key in use is not punished for the other caller's failures.
        assert assign(raw) == 200


@pytest.mark.django_db
def test_refused_credentials__over_the_limit__a_key_never_used_waits_but_one_in_use_is_served(
    settings: Any, shared_counters: redis.Redis
) -> None:
    settings.VERDICT_AUTH_FAILURE_RATE = "3/h"
    _, in_use = api_key_create(name="in-use", role="viewer")
    _, unused = api_key_create(name="unused", role="viewer")
    nat = Client(REMOTE_ADDR="192.0.2.60")

    def get(key: str) -> int:
        return nat.get("/api/v1/experiments", HTTP_AUTHORIZATION=f"Bearer {key}").status_code

    assert get(in_use) == 200
    assert [get(f"vk_revoked_{i}") for i in range(4)] == [401, 401, 401, 429]
    assert get(in_use) == 200
    assert get(unused) == 429
    # Known to be in use on another server (the shared mark), not in this process's cache.
    api_key_cache_clear()
    assert get(in_use) == 200


@pytest.mark.django_db
def test_refused_credentials__guessing_over_the_limit__no_key_lookups_past_it(
    settings: Any, shared_counters: redis.Redis
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.VERDICT_AUTH_FAILURE_RATE = "10/h"
    guesser = Client(REMOTE_ADDR="198.51.100.77")
    codes = []
    with CaptureQueriesContext(connection) as queries:
        for i in range(200):
            answer = guesser.post(
                "/api/v1/assign",
                {"unit_id": "u-1"},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer vk_guess-{i}",
            )
            codes.append(answer.status_code)
    assert codes == [401] * 10 + [429] * 190
    assert len(queries) == 10  # one key lookup per refused guess, none after
    [counter] = shared_counters.keys("*auth-failure*")
    assert int(shared_counters.get(counter)) == 10
