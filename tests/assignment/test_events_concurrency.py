"""Concurrent submissions of the same events store each event once (PostgreSQL)."""

from __future__ import annotations

import json
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from assignment.models import Event
from core.api_keys import api_key_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for truly concurrent transactions")


def batch(size: int) -> list[dict[str, Any]]:
    moment = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return [
        {
            "event_id": str(uuid.uuid4()),
            "unit_id": f"user-{i}",
            "event": "purchase",
            "timestamp": moment,
            "value": float(i),
        }
        for i in range(size)
    ]


def send_concurrently(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST each body from its own thread (own connection), all released at once."""
    _, raw = api_key_create(name="concurrent-app", role="app")
    barrier = threading.Barrier(len(bodies))
    results: list[Any] = [None] * len(bodies)

    def run(slot: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/events", json.dumps(bodies[slot]), content_type="application/json"
            )
            results[slot] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results), "a request did not finish"
    assert all(status == 200 for status, _ in results), results
    return [body for _, body in results]


def test_events__same_batch_sent_twice_concurrently__each_event_stored_once() -> None:
    events = batch(500)

    results = send_concurrently([{"events": events}, {"events": events}])

    assert sum(r["accepted"] for r in results) == 500
    assert sum(r["duplicates"] for r in results) == 500
    assert Event.objects.count() == 500
    assert Event.objects.values("event_id").distinct().count() == 500


def test_events__overlapping_batches_in_other_orders__no_deadlock_each_stored_once() -> None:
    events = batch(400)
    rng = random.Random(7)
    bodies = []
    for _ in range(4):
        subset = rng.sample(events, 300)
        bodies.append({"events": subset})

    results = send_concurrently(bodies)

    distinct = {e["event_id"] for body in bodies for e in body["events"]}
    assert sum(r["accepted"] for r in results) == len(distinct)
    assert sum(r["accepted"] + r["duplicates"] for r in results) == 1200
    assert Event.objects.count() == len(distinct)
