"""POST /api/v1/events: idempotent batches, per-item rejections, limits and access."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from assignment.models import Event

URL = "/api/v1/events"
pytestmark = pytest.mark.django_db


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def make_event(**fields: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.uuid4()),
        "unit_id": "user-1",
        "event": "purchase",
        "timestamp": iso(datetime.now(UTC) - timedelta(minutes=5)),
        "value": 29.5,
        "properties": {"currency": "EUR", "order_id": "A-1", "coupon": None, "first": True},
    }
    event.update(fields)
    return event


def post(client: APIClient, body: Any) -> Any:
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def test_events__valid_batch__all_stored_with_fields(app_client: APIClient) -> None:
    events = [make_event(unit_id=f"user-{i}") for i in range(3)]

    response = post(app_client, {"events": events})

    assert response.status_code == 200
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    stored = Event.objects.get(event_id=events[0]["event_id"])
    assert stored.unit_id == "user-0"
    assert stored.event == "purchase"
    assert stored.value == 29.5
    assert stored.properties == events[0]["properties"]
    assert stored.timestamp == datetime.fromisoformat(events[0]["timestamp"])
    assert stored.client_timestamp == stored.timestamp


def test_events__batch_retried__nothing_stored_twice(app_client: APIClient) -> None:
    body = {"events": [make_event() for _ in range(5)]}

    first = post(app_client, body)
    second = post(app_client, body)

    assert first.json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    assert second.status_code == 200
    assert second.json() == {"accepted": 0, "duplicates": 5, "rejected": []}
    assert Event.objects.count() == 5


def test_events__retry_overlaps_earlier_batch__only_new_ones_stored(
    app_client: APIClient,
) -> None:
    old = [make_event() for _ in range(3)]
    post(app_client, {"events": old})

    response = post(app_client, {"events": [*old[1:], make_event(), make_event()]})

    assert response.json() == {"accepted": 2, "duplicates": 2, "rejected": []}
    assert Event.objects.count() == 5


def test_events__same_id_twice_in_one_batch__first_stored_later_counted_duplicate(
    app_client: APIClient,
) -> None:
    first = make_event(value=1)
    again = {**first, "value": 2}

    response = post(app_client, {"events": [first, again, {**first, "value": 3}]})

    assert response.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert Event.objects.get(event_id=first["event_id"]).value == 1


def test_events__bad_items__good_ones_stored_bad_ones_named_by_index(
    app_client: APIClient,
) -> None:
    now = datetime.now(UTC)
    bad = {
        1: ("not an event", "must be a JSON object"),
        2: ({"event_id": "x", "event": "signup"}, "missing required field(s): unit_id, timestamp"),
        3: (make_event(timestamp="2024-05-01T12:00:00"), "ISO-8601 date-time with a time zone"),
        4: (make_event(timestamp="yesterday"), "ISO-8601 date-time with a time zone"),
        5: (make_event(value="12.5"), "value must be a finite number"),
        6: (make_event(value=True), "value must be a finite number"),
        7: (make_event(value=1e400), "value must be a finite number"),
        8: (make_event(event="Purchase!"), "event name must match ^[a-z0-9_.:-]{1,64}$"),
        9: (make_event(event="e" * 65), "event name must match"),
        10: (make_event(properties={"nested": {"a": 1}}), "properties must be a flat object"),
        11: (make_event(properties=["a"]), "properties must be a flat object"),
        12: (make_event(properties={"blob": "x" * 8200}), "properties exceed 8192 bytes"),
        13: (make_event(unit_id="u" * 257), "unit_id must be a non-empty string"),
        14: (make_event(unit_id=""), "unit_id must be a non-empty string"),
        15: (make_event(event_id="e" * 129), "event_id must be a non-empty string"),
        16: (make_event(event_id=12345), "event_id must be a non-empty string"),
        17: (make_event(timestamp=iso(now + timedelta(hours=25))), "more than 24 hours in the"),
        18: (make_event(timestamp=iso(now - timedelta(days=91))), "more than 90 days old"),
        19: (make_event(unit_id="a\x00b"), "unit_id contains characters that cannot be stored"),
    }
    good = {0: make_event(), 20: make_event(unit_id="u" * 256, event="a.b:c-d_9")}
    items = [good[i] if i in good else bad[i][0] for i in range(21)]

    response = post(app_client, {"events": items})

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 0
    assert [r["index"] for r in body["rejected"]] == sorted(bad)
    for rejection in body["rejected"]:
        assert bad[rejection["index"]][1] in rejection["reason"]
    stored = set(Event.objects.values_list("event_id", flat=True))
    assert stored == {good[0]["event_id"], good[20]["event_id"]}


def test_events__properties_exactly_8kb__accepted(app_client: APIClient) -> None:
    # {"k":"..."} is 8 bytes of framing around the string.
    properties = {"k": "é" * ((8192 - 8) // 2)}
    assert len(json.dumps(properties, separators=(",", ":"), ensure_ascii=False).encode()) == 8192

    response = post(app_client, {"events": [make_event(properties=properties)]})

    assert response.json()["accepted"] == 1


def test_events__value_and_properties_optional__stored_as_null_and_empty(
    app_client: APIClient,
) -> None:
    event = make_event()
    del event["value"], event["properties"]

    response = post(app_client, {"events": [event]})

    assert response.json()["accepted"] == 1
    stored = Event.objects.get()
    assert stored.value is None
    assert stored.properties == {}


def test_events__batch_of_1000__accepted(app_client: APIClient) -> None:
    response = post(app_client, {"events": [make_event() for _ in range(1000)]})

    assert response.json()["accepted"] == 1000
    assert Event.objects.count() == 1000


def test_events__batch_of_1001__413_with_message_nothing_stored(app_client: APIClient) -> None:
    response = post(app_client, {"events": [make_event() for _ in range(1001)]})

    assert response.status_code == 413
    assert "at most 1000 events" in response.json()["events"][0]
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"events": []},
        {"events": {"event_id": "x"}},
        {"events": None},
        {},
        [{"event_id": "x"}],
        "events",
        42,
    ],
)
def test_events__no_event_list__400_with_field_message(app_client: APIClient, body: Any) -> None:
    response = post(app_client, body)

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) <= {"events", "non_field_errors"}
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)


@pytest.mark.parametrize("raw", ['{"events": [', "{'events': []}", "", "\xff\xfe", "[" * 100_000])
def test_events__malformed_json__400(app_client: APIClient, raw: str) -> None:
    response = app_client.post(URL, data=raw.encode("latin-1"), content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_events__json_body_with_other_content_type__read_as_json(
    app_client: APIClient, content_type: str
) -> None:
    body = json.dumps({"events": [make_event()]})

    response = app_client.generic("POST", URL, body, content_type=content_type)

    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}


@pytest.mark.parametrize("sent_at", ["soon", "2024-05-01T12:00:00", 1714564800, [], {}])
def test_events__invalid_sent_at__400_for_whole_batch(app_client: APIClient, sent_at: Any) -> None:
    response = post(app_client, {"events": [make_event()], "sent_at": sent_at})

    assert response.status_code == 400
    assert "ISO-8601" in response.json()["sent_at"][0]
    assert Event.objects.count() == 0


@pytest.mark.parametrize("role", ["app", "editor", "admin"])
def test_events__runtime_key__can_send(client_for: Any, role: str) -> None:
    response = post(client_for(role), {"events": [make_event()]})

    assert response.status_code == 200
    assert Event.objects.count() == 1


def test_events__viewer_key__403_nothing_stored(viewer: APIClient) -> None:
    response = post(viewer, {"events": [make_event()]})

    assert response.status_code == 403
    assert Event.objects.count() == 0


def test_events__no_key__401_nothing_stored(client_for: Any) -> None:
    response = post(client_for(None), {"events": [make_event()]})

    assert response.status_code == 401
    assert Event.objects.count() == 0
