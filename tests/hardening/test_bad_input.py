"""Bad input answers a 4xx JSON error naming the field, and no accepted input breaks later work.

Each case here answered 500 (or was stored) before issue 15.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from analysis.models import ResultSnapshot, SnapshotStatus
from analysis.services.snapshots import experiment_refresh
from assignment.models import Event, Exposure
from core.limits import MAX_ABS_NUMBER, MAX_STORED_INT
from experiments.models import Experiment, Metric
from tests.factories import MetricFactory, started_experiment

pytestmark = pytest.mark.django_db


def _post(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _event(**fields: Any) -> dict[str, Any]:
    event = {
        "event_id": str(uuid.uuid4()),
        "unit_id": "user-1",
        "event": "purchase",
        "timestamp": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "value": 10.0,
    }
    event.update(fields)
    return event


# --- integers over 2^31 in the control plane ------------------------------------------------


@pytest.mark.parametrize("field", ["planned_sample_size", "planned_duration_days"])
def test_experiment_create__integer_over_2_31__400_names_field(editor, field: str) -> None:
    MetricFactory(key="paid")
    body = {
        "key": "big-plan",
        "name": "Big",
        "kind": "pricing",
        "variants": [{"key": "a", "name": "A", "weight": 1, "is_control": True}],
        "metrics": [{"metric": "paid", "role": "primary"}],
        field: 2**31,
    }
    response = editor.post("/api/v1/experiments", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Experiment.objects.filter(key="big-plan").exists()


@pytest.mark.parametrize("field", ["planned_sample_size", "planned_duration_days"])
def test_experiment_patch__integer_over_2_31__400_names_field(editor, field: str) -> None:
    exp = started_experiment(key="patch-me")
    response = editor.patch(f"/api/v1/experiments/{exp.key}", {field: 10**30}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    ok = editor.patch(f"/api/v1/experiments/{exp.key}", {field: MAX_STORED_INT}, format="json")
    assert ok.status_code == 200, ok.content


def test_metric_create__retention_day_over_2_31__400_names_field(editor) -> None:
    body = {
        "key": "d-huge",
        "name": "D huge",
        "type": "retention",
        "event": "app_open",
        "retention_day": 2**31,
    }
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 400, response.content
    assert "retention_day" in response.json()
    assert not Metric.objects.filter(key="d-huge").exists()


# --- /assign -----------------------------------------------------------------------------------


def test_assign__lone_surrogate_in_experiment_key__400_names_experiments(app_client) -> None:
    started_experiment(key="real")
    body = '{"unit_id": "u1", "experiments": ["real", "\\ud800"]}'
    response = app_client.post("/api/v1/assign", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "experiments" in response.json()
    assert not Exposure.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/assign", "/api/v1/events"])
def test_runtime__deeply_nested_json__400_json(app_client, path: str) -> None:
    body = '{"unit_id": "u1", "attributes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = app_client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()


def test_assign__deeply_nested_json_through_session__400_json(editor) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = editor.post("/api/v1/assign", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.parametrize("unit_id", [" ", "\t\n", "\u3000"])
def test_unit_id__whitespace_only__refused_by_assign_and_events_alike(
    app_client, unit_id: str
) -> None:
    started_experiment(key="ws")
    assign = _post(app_client, "/api/v1/assign", {"unit_id": unit_id})
    assert assign.status_code == 400
    assert "unit_id" in assign.json()
    one = app_client.get("/api/v1/assign/ws", {"unit_id": unit_id})
    assert one.status_code == 400
    assert "unit_id" in one.json()
    events = _post(app_client, "/api/v1/events", {"events": [_event(unit_id=unit_id)]})
    assert events.status_code == 200
    assert events.json()["accepted"] == 0
    assert "unit_id" in events.json()["rejected"][0]["reason"]
    assert not Event.objects.exists()
    assert not Exposure.objects.exists()


def test_events__whitespace_only_event_id__rejected_with_reason(app_client) -> None:
    response = _post(app_client, "/api/v1/events", {"events": [_event(event_id="   ")]})
    assert response.json()["accepted"] == 0
    assert "event_id" in response.json()["rejected"][0]["reason"]
    assert not Event.objects.exists()


# --- numbers that would break every later refresh ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"value": 1.7e308}, "value"),
        ({"value": -1.7e308}, "value"),
        ({"value": MAX_ABS_NUMBER * 10}, "value"),
        ({"properties": {"revenue": 10**400}}, '"revenue"'),
        ({"properties": {"revenue": 10**20}}, '"revenue"'),
        ({"properties": {"revenue": 1e300}}, '"revenue"'),
    ],
)
def test_events__number_beyond_documented_range__rejected_per_item(
    app_client, fields: dict[str, Any], named: str
) -> None:
    good = _event()
    bad = _event(**fields)
    # Python's json writes 10**400 as digits; the server parses it as an integer.
    response = _post(app_client, "/api/v1/events", {"events": [good, bad]})
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1]
    reason = body["rejected"][0]["reason"]
    assert named in reason
    assert "1e15" in reason
    assert list(Event.objects.values_list("event_id", flat=True)) == [good["event_id"]]


def test_events__numbers_at_the_bounds__accepted(app_client) -> None:
    events = [
        _event(value=MAX_ABS_NUMBER, properties={"revenue": -MAX_ABS_NUMBER}),
        _event(value=-(10**15), properties={"revenue": 10**15, "n": 3}),
    ]
    response = _post(app_client, "/api/v1/events", {"events": events})
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}


# --- URLs, docs and refresh errors -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/experiments/not%20a%20slug",
        "/api/v1/experiments/%C3%A9t%C3%A9",
        "/api/v1/experiments/key.with.dots/results",
        "/api/v1/metrics/bad%21key",
        "/api/v1/layers/bad%21key",
    ],
)
def test_non_slug_key__json_404_naming_the_key(editor, path: str) -> None:
    response = editor.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "key" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/experiments/a%00b", "/api/v1/no-such-endpoint"])
def test_unroutable_api_path__json_404(editor, path: str) -> None:
    response = editor.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs__options__not_a_server_error(client, path: str) -> None:
    response = client.options(path)
    assert response.status_code < 500
    assert client.get(path).status_code == 200


def test_results__failed_refresh_with_database_text__viewer_sees_no_raw_error(viewer) -> None:
    exp = started_experiment(key="fails")
    raw = (
        "django.db.utils.DataError: value out of range: overflow\n"
        'CONTEXT:  SQL statement "SELECT sum(e.value) FROM assignment_event e"'
    )
    now = datetime.now(UTC)
    good = experiment_refresh(experiment=exp, as_of=now - timedelta(hours=1))
    failed = ResultSnapshot.objects.create(
        experiment=exp,
        phase=exp.phase,
        status=SnapshotStatus.FAILED,
        as_of=now,
        computed_at=datetime.now(UTC) + timedelta(seconds=1),
        duration_seconds=0.1,
        engine_version="test",
        plan={},
        error=raw,
    )
    response = viewer.get(f"/api/v1/experiments/{exp.key}/results")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["snapshot_id"] == good.id
    error = body["last_refresh"]["error"]
    assert "overflow" not in error and "SELECT" not in error and "sum(" not in error
    assert "DataError" in error
    assert str(failed.id) in error
