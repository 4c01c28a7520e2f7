"""Clock-skew correction and the 24 hour / 90 day limits on event time."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from assignment.models import Event
from assignment.services.events import events_ingest

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def event(timestamp: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "unit_id": "u1",
        "event": "signup",
        "timestamp": timestamp,
        **fields,
    }


def stored(item: dict[str, Any]) -> Event:
    return Event.objects.get(event_id=item["event_id"])


def test_skew__client_clock_10_minutes_behind__event_time_moved_forward() -> None:
    item = event("2024-05-01T11:45:00Z")  # 5 minutes before the client sent the batch

    result = events_ingest(
        payload={"events": [item], "sent_at": "2024-05-01T11:50:00Z"}, received_at=RECEIVED
    )

    assert result.accepted == 1
    row = stored(item)
    assert row.timestamp == datetime(2024, 5, 1, 11, 55, 0, tzinfo=UTC)
    assert row.client_timestamp == datetime(2024, 5, 1, 11, 45, 0, tzinfo=UTC)
    assert row.received_at == RECEIVED


def test_skew__client_clock_ahead_in_other_zone__exact_corrected_time() -> None:
    # The client's clock reads 2 h 30 min 15.25 s ahead, in UTC+05:30.
    item = event("2024-05-01T19:59:59.750000+05:30")

    events_ingest(
        payload={"events": [item], "sent_at": "2024-05-01T20:00:15.250000+05:30"},
        received_at=RECEIVED,
    )

    # received_at - (sent_at - timestamp) = 12:00:00 - 15.5 s
    assert stored(item).timestamp == datetime(2024, 5, 1, 11, 59, 44, 500000, tzinfo=UTC)


def test_skew__no_sent_at__client_timestamp_stored_as_is() -> None:
    item = event("2024-04-30T08:00:00-04:00")

    events_ingest(payload={"events": [item]}, received_at=RECEIVED)

    row = stored(item)
    assert row.timestamp == datetime(2024, 4, 30, 12, 0, 0, tzinfo=UTC)
    assert row.client_timestamp == row.timestamp


def test_skew__sent_at_explicit_null__treated_as_absent() -> None:
    item = event("2024-05-01T11:00:00Z")

    events_ingest(payload={"events": [item], "sent_at": None}, received_at=RECEIVED)

    assert stored(item).timestamp == datetime(2024, 5, 1, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(hours=24), True),
        (timedelta(hours=24, microseconds=1), False),
        (-timedelta(days=90), True),
        (-(timedelta(days=90, microseconds=1)), False),
    ],
)
def test_limits__edges_without_sent_at__inclusive(offset: timedelta, accepted: bool) -> None:
    item = event((RECEIVED + offset).isoformat())

    result = events_ingest(payload={"events": [item]}, received_at=RECEIVED)

    assert (result.accepted == 1) is accepted
    assert Event.objects.filter(event_id=item["event_id"]).exists() is accepted
    if not accepted:
        reason = result.rejected[0][1]
        assert ("24 hours in the future" if offset > timedelta(0) else "90 days old") in reason


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(hours=24), True),
        (timedelta(hours=24, microseconds=1), False),
        (-timedelta(days=90), True),
        (-(timedelta(days=90, microseconds=1)), False),
    ],
)
def test_limits__edges_after_skew_correction__judged_on_corrected_time(
    offset: timedelta, accepted: bool
) -> None:
    # The client's clock is a year behind: the raw timestamp is far too old, the corrected one
    # lies exactly `offset` from the server's receipt time.
    sent_at = RECEIVED - timedelta(days=365)
    item = event((sent_at + offset).isoformat())

    result = events_ingest(
        payload={"events": [item], "sent_at": sent_at.isoformat()}, received_at=RECEIVED
    )

    assert (result.accepted == 1) is accepted
    if accepted:
        assert stored(item).timestamp == RECEIVED + offset


def test_limits__correction_beyond_calendar__rejected_not_crashing() -> None:
    items = [event("0001-01-01T00:00:00+14:00"), event("9999-12-31T23:59:59-14:00")]

    result = events_ingest(
        payload={"events": items, "sent_at": "5000-01-01T00:00:00Z"}, received_at=RECEIVED
    )

    assert result.accepted == 0
    assert [index for index, _ in result.rejected] == [0, 1]
    assert "90 days old" in result.rejected[0][1]


def test_skew__through_api__stored_time_follows_server_receipt(app_client: APIClient) -> None:
    # The client's clock is 3 days behind; the event happened 90 s before it sent the batch.
    client_now = datetime.now(UTC) - timedelta(days=3)
    item = event((client_now - timedelta(seconds=90)).isoformat())
    body = {"events": [item], "sent_at": client_now.isoformat()}

    response = app_client.post("/api/v1/events", json.dumps(body), content_type="application/json")

    assert response.json()["accepted"] == 1
    row = stored(item)
    assert row.timestamp == row.received_at - timedelta(seconds=90)
    assert row.client_timestamp == client_now - timedelta(seconds=90)
