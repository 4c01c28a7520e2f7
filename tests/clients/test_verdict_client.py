"""The Python client against a live Verdict server, and against failing servers."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from verdict_client import VerdictClient

from assignment.models import Event, Exposure
from core.actors import Actor
from core.api_keys import api_key_create
from experiments.services.lifecycle import experiment_new_phase, experiment_transition
from tests.factories import started_experiment

SYSTEM = Actor.system("test")


@pytest.fixture
def app_key(transactional_db) -> str:
    return api_key_create(name="client-test", role="app")[1]


def test_client_assign__live_server__answers_and_records_exposure(live_server, app_key):
    exp = started_experiment(key="pricing")
    client = VerdictClient(live_server.url, app_key, timeout=5)
    answer = client.assign("user-1", {"country": "SG"}, experiments=["pricing", "nope"])
    assert answer["pricing"].reason == "hashed"
    assert answer["pricing"].in_experiment is True
    assert answer["pricing"].payload == {"variant": answer["pricing"].variant}
    assert answer["pricing"].fallback is False
    assert answer["nope"].reason == "unknown_experiment"
    exposure = Exposure.objects.get(experiment=exp)
    assert (exposure.unit_id, exposure.attributes) == ("user-1", {"country": "SG"})


def test_client_assign__within_ttl__served_from_local_cache(live_server, app_key):
    exp = started_experiment(key="pricing")
    client = VerdictClient(live_server.url, app_key, timeout=5, cache_ttl=60)
    first = client.assign("user-1", experiments=["pricing"])["pricing"]
    experiment_new_phase(actor=SYSTEM, experiment=exp, coverage=0.0, reason="close")
    assert client.assign("user-1", experiments=["pricing"])["pricing"] == first
    fresh = VerdictClient(live_server.url, app_key, timeout=5)
    assert fresh.assign("user-1", experiments=["pricing"])["pricing"].reason == "outside_coverage"


def test_client_assign__server_down_after_an_answer__stale_answer_marked_fallback(
    live_server, app_key, dead_url
):
    started_experiment(key="pricing")
    client = VerdictClient(live_server.url, app_key, timeout=5, cache_ttl=0)
    good = client.assign("user-1", experiments=["pricing"])["pricing"]
    client.base_url = dead_url
    again = client.assign("user-1", experiments=["pricing"])["pricing"]
    assert (again.variant, again.payload, again.reason) == (good.variant, good.payload, good.reason)
    assert again.fallback is True


def test_client_assign__server_down__learned_control_for_new_units(live_server, app_key, dead_url):
    exp = started_experiment(key="pricing")
    experiment_transition(actor=SYSTEM, experiment=exp, action="pause")
    client = VerdictClient(live_server.url, app_key, timeout=5)
    assert client.assign("user-1", experiments=["pricing"])["pricing"].reason == "paused"
    client.base_url = dead_url
    answer = client.assign("user-2", experiments=["pricing", "other"])
    assert answer["pricing"].variant == "control"
    assert answer["pricing"].payload == {"variant": "control"}
    assert (answer["pricing"].reason, answer["pricing"].in_experiment) == ("unavailable", False)
    assert (answer["other"].variant, answer["other"].payload) == (None, None)
    assert answer["other"].reason == "unavailable"


def test_client_assign__nothing_listening__unavailable_without_raising(dead_url):
    client = VerdictClient(dead_url, "vk_x", timeout=0.5)
    answer = client.assign("user-1", experiments=["pricing"])
    assert answer["pricing"].variant is None
    assert answer["pricing"].reason == "unavailable"
    assert client.last_error
    assert client.assign("user-1") == {}


def test_client_assign__slow_server__returns_after_timeout(fake_server):
    def slow(path, body):
        time.sleep(2)
        return 200, {"unit_id": "u", "assignments": []}

    server = fake_server(slow)
    client = VerdictClient(server.url, "vk_x", timeout=0.3, retry_after=30)
    started = time.monotonic()
    answer = client.assign("user-1", experiments=["pricing"])
    assert time.monotonic() - started < 1.5
    assert answer["pricing"].reason == "unavailable"
    started = time.monotonic()
    client.assign("user-2", experiments=["pricing"])
    assert time.monotonic() - started < 0.1  # skips the network while the server is down
    assert len(server.requests) == 1


def test_client_assign__bad_input_refused__fallback_and_no_outage(fake_server):
    server = fake_server(lambda path, body: (400, {"unit_id": ["Must not be empty."]}))
    client = VerdictClient(server.url, "vk_x", timeout=2)
    assert client.assign("", experiments=["p"])["p"].reason == "unavailable"
    client.assign("", experiments=["p"])
    assert len(server.requests) == 2  # a refusal is not an outage: no back-off


def test_client_track__live_server__every_event_stored_once(live_server, app_key):
    client = VerdictClient(live_server.url, app_key, flush_interval=60)
    ids = [
        client.track("purchase", f"user-{i}", value=9.5, properties={"currency": "EUR"})
        for i in range(2500)
    ]
    assert client.close(timeout=60) is True
    assert Event.objects.count() == 2500
    assert set(Event.objects.values_list("event_id", flat=True)) == set(ids)
    assert client.stats["sent"] == 2500
    assert client.stats["dropped"] == 0


def _accept(path, body):
    return 200, {"accepted": len(body["events"]), "duplicates": 0, "rejected": []}


def test_client_track__batches_of_at_most_1000_with_iso_times(fake_server):
    server = fake_server(_accept)
    client = VerdictClient(server.url, "vk_x", flush_interval=60)
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    for i in range(2500):
        client.track("signup", f"u{i}", timestamp=moment if i == 0 else None, event_id=f"e{i}")
    assert client.flush(timeout=30)
    sizes = [len(body["events"]) for _, body in server.requests]
    assert sizes == [1000, 1000, 500]
    path, body = server.requests[0]
    assert path == "/api/v1/events"
    assert datetime.fromisoformat(body["sent_at"]).tzinfo is not None
    first = body["events"][0]
    assert first == {
        "event_id": "e0",
        "unit_id": "u0",
        "event": "signup",
        "timestamp": "2024-05-01T12:00:00+00:00",
        "value": None,
        "properties": {},
    }
    assert all(datetime.fromisoformat(e["timestamp"]).tzinfo for e in body["events"])
    client.close()


def test_client_track__server_fails_then_recovers__retried_with_same_ids(fake_server):
    calls = {"n": 0}

    def flaky(path, body):
        calls["n"] += 1
        if calls["n"] <= 2:
            return 503, {"detail": "busy"}
        return _accept(path, body)

    server = fake_server(flaky)
    client = VerdictClient(server.url, "vk_x", flush_interval=60)
    ids = [client.track("purchase", "u1", value=1.0) for _ in range(5)]
    assert client.flush(timeout=30)
    bodies = [body for _, body in server.requests]
    assert len(bodies) == 3
    assert all([e["event_id"] for e in b["events"]] == ids for b in bodies)
    assert client.stats["sent"] == 5
    client.close()


def test_client_track__buffer_full__oldest_dropped_and_counted(fake_server):
    server = fake_server(_accept)
    client = VerdictClient(server.url, "vk_x", max_buffer=10, flush_interval=60)
    for i in range(15):
        client.track("app_open", "u1", event_id=f"e{i}")
    assert client.stats["dropped"] == 5
    assert client.flush(timeout=10)
    sent = [e["event_id"] for _, body in server.requests for e in body["events"]]
    assert sent == [f"e{i}" for i in range(5, 15)]
    client.close()


def test_client_track__batch_refused__not_retried_and_counted(fake_server):
    server = fake_server(lambda path, body: (400, {"events": ["Must be a list."]}))
    client = VerdictClient(server.url, "vk_x", flush_interval=60)
    client.track("purchase", "u1")
    assert client.flush(timeout=10)
    assert len(server.requests) == 1
    assert client.stats["failed"] == 1
    client.close()


def test_client_track__server_down__flush_times_out_without_raising(dead_url):
    client = VerdictClient(dead_url, "vk_x", flush_interval=60)
    client.track("purchase", "u1")
    assert client.flush(timeout=0.5) is False
    assert client.pending == 1
    assert client.close(timeout=0.2) is False
