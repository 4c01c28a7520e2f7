"""The curve metric types (retention curve, value to date) through the metrics API and metrics
as code: what is stored and served, and a 400 naming the field for bad input."""

from __future__ import annotations

from typing import Any

import pytest

from core.actors import Actor
from experiments.models import Metric
from experiments.services.metrics_as_code import metrics_apply, metrics_export

pytestmark = pytest.mark.django_db

RETENTION = {
    "key": "retention_curve",
    "name": "日留存",
    "type": "retention_curve",
    "activity": [{"event": "app_open"}, {"event": "purchase", "filter": {"coupon": "NEW10"}}],
    "horizon_days": 30,
}
LTV = {
    "key": "ltv_new10",
    "name": "LTV of NEW10",
    "type": "value_curve",
    "event": "purchase",
    "value_field": "revenue",
    "horizon_days": 90,
}


@pytest.mark.parametrize("body", [RETENTION, LTV])
def test_metric_create__curves__201_stored_and_served(editor, body) -> None:
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 201, response.json()
    served = editor.get(f"/api/v1/metrics/{body['key']}").json()
    for field, value in body.items():
        assert served[field] == value, field
    stored = Metric.objects.get(key=body["key"])
    assert stored.horizon_days == body["horizon_days"]
    assert stored.display_format == ("rate" if body is RETENTION else "number")


def test_metric_create__curve_without_horizon__default_30(editor) -> None:
    body = {k: v for k, v in RETENTION.items() if k != "horizon_days"}
    assert editor.post("/api/v1/metrics", body, format="json").status_code == 201
    assert Metric.objects.get(key="retention_curve").horizon_days == 30


def _bad(base: dict[str, Any] = RETENTION, **fields: Any) -> dict[str, Any]:
    return {**base, **fields}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (_bad(horizon_days=91), "horizon_days", "from 1 to 90"),
        (_bad(horizon_days=0), "horizon_days", "greater than or equal to 1"),
        (_bad(LTV, horizon_days=120), "horizon_days", "from 1 to 90"),
        (_bad(horizon_days="30"), "horizon_days", "whole number"),
        (_bad(activity=[]), "activity", "a list of 1 to 6 events"),
        ({k: v for k, v in RETENTION.items() if k != "activity"}, "activity", "1 to 6"),
        (_bad(activity=[{"event": "app_open"}] * 7), "activity", "1 to 6"),
        (
            _bad(activity=[{"event": "app_open"}, {"event": "app_open", "filter": {}}]),
            "activity[1]",
            "already listed",
        ),
        (_bad(activity=[{"event": "app open"}]), "activity[0].event", "not a valid event name"),
        (
            _bad(activity=[{"event": "purchase", "filter": {"coupon": {"$regex": "N"}}}]),
            "activity[0].filter",
            '"$regex"',
        ),
        (_bad(filter={"coupon": "NEW10"}), "filter", "each of its activity events"),
        (_bad(LTV, value_field=""), "value_field", "value field to sum"),
    ],
)
def test_metric_create__bad_curve_input__400_names_the_field_and_stores_nothing(
    editor, body, field, words
) -> None:
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()
    assert field in errors, errors
    assert any(words in message for message in errors[field]), errors[field]
    assert not Metric.objects.exists()


def test_metric_update__type_changed_away__curve_fields_cleared(editor) -> None:
    editor.post("/api/v1/metrics", RETENTION, format="json")
    response = editor.patch(
        "/api/v1/metrics/retention_curve", {"type": "retention", "retention_day": 7, "event": "x"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    stored = Metric.objects.get(key="retention_curve")
    assert (stored.activity, stored.horizon_days) == (None, None)


def test_metrics_as_code__curves__exported_and_applied_unchanged(editor) -> None:
    for body in (RETENTION, LTV):
        editor.post("/api/v1/metrics", body, format="json")
    exported = {d["key"]: d for d in metrics_export()}
    assert exported["retention_curve"]["activity"] == RETENTION["activity"]
    assert exported["ltv_new10"]["horizon_days"] == 90
    applied = metrics_apply(actor=Actor.system("test"), definitions=list(exported.values()))
    assert applied.stored and {c.action for c in applied.changes} == {"unchanged"}
    bad = {**exported["ltv_new10"], "horizon_days": 365}
    refused = metrics_apply(actor=Actor.system("test"), definitions=[bad])
    assert not refused.stored and "horizon_days" in refused.problems["ltv_new10"]
