"""Every bad assign request answers 400 with a field-level reason and records nothing."""

from __future__ import annotations

import pytest

from assignment.models import Exposure
from tests.factories import started_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(db):
    return started_experiment(key="live")


BAD_BODIES = [
    ({}, "unit_id"),
    ({"unit_id": None}, "unit_id"),
    ({"unit_id": ""}, "unit_id"),
    ({"unit_id": "   "}, "unit_id"),
    ({"unit_id": "x" * 257}, "unit_id"),
    ({"unit_id": 1.5}, "unit_id"),
    ({"unit_id": True}, "unit_id"),
    ({"unit_id": ["u1"]}, "unit_id"),
    ({"unit_id": "a\x00b"}, "unit_id"),
    ({"unit_id": "u1", "attributes": "country=SG"}, "attributes"),
    ({"unit_id": "u1", "attributes": ["SG"]}, "attributes"),
    ({"unit_id": "u1", "attributes": {"address": {"country": "SG"}}}, "attributes"),
    ({"unit_id": "u1", "attributes": {"tags": [{"a": 1}]}}, "attributes"),
    ({"unit_id": "u1", "attributes": {"tags": [["a"]]}}, "attributes"),
    ({"unit_id": "u1", "attributes": {"bio": "x" * 1025}}, "attributes"),
    ({"unit_id": "u1", "attributes": {"bio": "a\x00"}}, "attributes"),
    ({"unit_id": "u1", "attributes": {f"a{i}": i for i in range(101)}}, "attributes"),
    ({"unit_id": "u1", "attributes": {"": 1}}, "attributes"),
    ({"unit_id": "u1", "experiments": "live"}, "experiments"),
    ({"unit_id": "u1", "experiments": []}, "experiments"),
    ({"unit_id": "u1", "experiments": [1]}, "experiments"),
    ({"unit_id": "u1", "experiments": [""]}, "experiments"),
    ({"unit_id": "u1", "experiments": [f"e{i}" for i in range(101)]}, "experiments"),
    ({"unit_id": "u1", "track": "no"}, "track"),
    ({"unit_id": "u1", "track": 0}, "track"),
    ({"unit_id": "u1", "attribute": {"country": "SG"}}, "attribute"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_assign__bad_body__400_naming_the_field(app_client, running, body, field):
    response = app_client.post("/api/v1/assign", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors
    assert all(isinstance(m, str) and m for m in errors[field])
    assert not Exposure.objects.exists()


@pytest.mark.parametrize("raw", ["[1, 2]", '"u1"', "null", "42"])
def test_assign__body_not_an_object__400(app_client, running, raw):
    response = app_client.post("/api/v1/assign", raw, content_type="application/json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["non_field_errors"][0]


def test_assign__malformed_json__400(app_client, running):
    response = app_client.post("/api/v1/assign", '{"unit_id": ', content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["non_field_errors"][0]


def test_assign__body_not_utf8__400(app_client, running):
    raw = b'{"unit_id": "\xff\xfe"}'
    response = app_client.post("/api/v1/assign", raw, content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["non_field_errors"][0]


@pytest.mark.parametrize(
    "raw",
    ['{"unit_id": "\\ud800"}', '{"unit_id": "u1", "attributes": {"name": "\\udc00"}}'],
)
def test_assign__lone_surrogate__400(app_client, running, raw):
    response = app_client.post("/api/v1/assign", raw, content_type="application/json")
    assert response.status_code == 400
    assert not Exposure.objects.exists()


def test_assign__nan_attribute__400(app_client, running):
    raw = '{"unit_id": "u1", "attributes": {"score": NaN}}'
    response = app_client.post("/api/v1/assign", raw, content_type="application/json")
    assert response.status_code == 400
    assert "NaN" in str(response.json())


def test_assign__form_encoded_body__400_asking_for_json(app_client, running):
    response = app_client.post("/api/v1/assign", {"unit_id": "u1"})
    assert response.status_code == 400
    assert "application/json" in response.json()["non_field_errors"][0]


def test_assign__limits_exactly__accepted(app_client, running):
    body = {
        "unit_id": "x" * 256,
        "attributes": {f"a{i}": "y" * 1024 for i in range(100)},
        "experiments": ["live"] + [f"e{i}" for i in range(99)],
    }
    response = app_client.post("/api/v1/assign", body, format="json")
    assert response.status_code == 200
    assert len(response.json()["assignments"]) == 100
    assert Exposure.objects.get().unit_id == "x" * 256


def test_assign__integer_unit_id__used_as_its_string(app_client, running):
    response = app_client.post("/api/v1/assign", {"unit_id": 42}, format="json")
    assert response.status_code == 200
    assert response.json()["unit_id"] == "42"
    assert Exposure.objects.get().unit_id == "42"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "unit_id"),
        ("unit_id=", "unit_id"),
        ("unit_id=a&unit_id=b", "unit_id"),
        ("unit_id=" + "x" * 257, "unit_id"),
        ("unit_id=u1&track=maybe", "track"),
        ("unit_id=u1&bio=" + "x" * 1025, "attributes"),
    ],
)
def test_assign_get__bad_query__400(app_client, running, query, field):
    response = app_client.get(f"/api/v1/assign/live?{query}")
    assert response.status_code == 400
    assert field in response.json()
    assert not Exposure.objects.exists()
