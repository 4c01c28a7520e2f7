"""No input makes POST /api/v1/events fail with a server error or store a bad row."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from assignment.models import Event
from assignment.services.event_validation import MAX_EVENT_ID_LENGTH, MAX_UNIT_ID_LENGTH

pytestmark = pytest.mark.django_db

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "\ud800", "2024-05-01T12:00:00Z", "purchase", "1e999"]),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
now = datetime.now(UTC)
timestamps = st.one_of(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, None]),
    ).map(lambda d: d.isoformat()),
    st.datetimes(
        min_value=(now - timedelta(days=100)).replace(tzinfo=None),
        max_value=(now + timedelta(days=2)).replace(tzinfo=None),
        timezones=st.just(UTC),
    ).map(lambda d: d.isoformat()),
    json_values,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.one_of(st.uuids().map(str), json_values, st.text(max_size=140)),
        "unit_id": st.one_of(st.text(max_size=300), json_values),
        "event": st.one_of(st.from_regex(r"\A[a-z0-9_.:-]{1,70}\Z"), json_values),
        "timestamp": timestamps,
        "value": json_values,
        "properties": st.one_of(st.dictionaries(st.text(max_size=8), scalars), json_values),
    },
)
recent = st.integers(min_value=-89 * 86400, max_value=23 * 3600).map(
    lambda seconds: (now + timedelta(seconds=seconds)).isoformat()
)
valid_events = st.fixed_dictionaries(
    {
        "event_id": st.uuids().map(str),
        "unit_id": st.text(min_size=1, max_size=256),
        "event": st.from_regex(r"\A[a-z0-9_.:-]{1,64}\Z"),
        "timestamp": recent,
    },
    optional={
        "value": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        "properties": st.dictionaries(st.text(max_size=8), scalars, max_size=4),
    },
)


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with one field replaced by anything, or dropped."""
    event = dict(draw(valid_events))
    field = draw(st.sampled_from(["event_id", "unit_id", "event", "timestamp", "value", "x"]))
    if draw(st.booleans()):
        event.pop(field, None)
    else:
        event[field] = draw(json_values)
    return event


bodies = st.one_of(
    st.fixed_dictionaries(
        {
            "events": st.lists(
                st.one_of(valid_events, mutated_events(), events, json_values),
                min_size=1,
                max_size=6,
            )
        },
        optional={"sent_at": timestamps},
    ),
    json_values,
)


def encode(body: Any) -> bytes:
    # allow_nan: Python clients may send NaN/Infinity literals; surrogates stay escaped.
    return json.dumps(body).encode()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_events__random_json__never_a_server_error(app_client: APIClient, body: Any) -> None:
    before = Event.objects.count()

    response = app_client.post("/api/v1/events", encode(body), content_type="application/json")

    assert response.status_code in (200, 400, 413), response.content
    payload = response.json()
    if response.status_code == 200:
        items = body["events"]
        assert payload["accepted"] + payload["duplicates"] + len(payload["rejected"]) == len(items)
        for rejection in payload["rejected"]:
            assert 0 <= rejection["index"] < len(items)
            assert rejection["reason"]
    stored = Event.objects.order_by("-id")[: payload.get("accepted", 0)]
    assert Event.objects.count() == before + payload.get("accepted", 0)
    for row in stored:
        assert 0 < len(row.event_id) <= MAX_EVENT_ID_LENGTH
        assert 0 < len(row.unit_id) <= MAX_UNIT_ID_LENGTH
        assert row.value is None or math.isfinite(row.value)
        assert row.received_at - timedelta(days=90) <= row.timestamp
        assert row.timestamp <= row.received_at + timedelta(hours=24)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200))
def test_events__random_bytes__never_a_server_error(raw: bytes) -> None:
    from core.api_keys import api_key_create

    client = APIClient()
    _, key = api_key_create(name="fuzz", role="app")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    response = client.post("/api/v1/events", raw, content_type="application/json")

    assert response.status_code in (200, 400, 413)
