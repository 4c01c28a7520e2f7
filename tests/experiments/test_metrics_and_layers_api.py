"""The metrics library and layers through the API: each type's rules, edits and deletes."""

from __future__ import annotations

import pytest

from experiments.models import AuditLogEntry, Layer, Metric
from tests.factories import LayerFactory, ready_experiment

CONVERSION = {"key": "paid_conversion", "name": "Paid", "type": "conversion", "event": "purchase"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        CONVERSION,
        {
            "key": "arpu",
            "name": "ARPU",
            "type": "mean",
            "event": "purchase",
            "value_field": "revenue",
            "winsorize_percentile": 99,
        },
        {
            "key": "aov",
            "name": "AOV",
            "type": "ratio",
            "numerator": {"event": "purchase", "value_field": "revenue"},
            "denominator": {"event": "purchase", "value_field": None},
        },
        {"key": "d7", "name": "D7", "type": "retention", "event": "app_open", "retention_day": 7},
    ],
)
def test_metric_create__each_type__201_and_stored(editor, body) -> None:
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 201, response.json()
    stored = Metric.objects.get(key=body["key"])
    assert stored.type == body["type"]
    assert response.json()["key"] == body["key"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "m", "name": "M", "type": "mean", "event": "purchase"}, "value_field"),
        (
            {"key": "m", "name": "M", "type": "ratio", "numerator": {"event": "purchase"}},
            "denominator",
        ),
        (
            {
                "key": "m",
                "name": "M",
                "type": "ratio",
                "numerator": {"event": "Bad Name"},
                "denominator": {"event": "purchase"},
            },
            "numerator.event",
        ),
        ({"key": "m", "name": "M", "type": "retention", "event": "app_open"}, "retention_day"),
        ({"key": "m", "name": "M", "type": "conversion"}, "event"),
        ({"key": "m", "name": "M", "type": "conversion", "event": "has space"}, "event"),
        ({"key": "m", "name": "M", "type": "funnel", "event": "x"}, "type"),
        ({**CONVERSION, "window_hours": 0}, "window_hours"),
        ({**CONVERSION, "winsorize_percentile": 150}, "winsorize_percentile"),
    ],
)
def test_metric_create__bad_definition__400_names_field_and_stores_nothing(
    editor, body, field
) -> None:
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Metric.objects.exists()


@pytest.mark.django_db
def test_metric_update__patch__changes_and_audits(editor) -> None:
    editor.post("/api/v1/metrics", CONVERSION, format="json")
    response = editor.patch("/api/v1/metrics/paid_conversion", {"window_hours": 72}, format="json")
    assert response.status_code == 200
    assert Metric.objects.get().window_hours == 72
    entry = AuditLogEntry.objects.get(object_type="metric", action="update")
    assert (entry.before["window_hours"], entry.after["window_hours"]) == (168, 72)


@pytest.mark.django_db
def test_metric_update__breaks_type_rules__400_and_unchanged(editor) -> None:
    editor.post("/api/v1/metrics", CONVERSION, format="json")
    response = editor.patch("/api/v1/metrics/paid_conversion", {"type": "mean"}, format="json")
    assert response.status_code == 400
    assert "value_field" in response.json()
    assert Metric.objects.get().type == "conversion"


@pytest.mark.django_db
def test_metric_delete__linked_to_experiment__400_and_kept(editor) -> None:
    ready_experiment(key="pricing")  # links the metric "conversion"
    response = editor.delete("/api/v1/metrics/conversion")
    assert response.status_code == 400
    assert "pricing" in str(response.json())
    assert Metric.objects.filter(key="conversion").exists()


@pytest.mark.django_db
def test_metric_delete__unused__204(editor) -> None:
    editor.post("/api/v1/metrics", CONVERSION, format="json")
    assert editor.delete("/api/v1/metrics/paid_conversion").status_code == 204
    assert not Metric.objects.exists()


@pytest.mark.django_db
def test_layers__create_list_and_delete_rules(editor) -> None:
    response = editor.post("/api/v1/layers", {"key": "checkout", "name": "Checkout"}, format="json")
    assert response.status_code == 201
    assert (
        editor.post(
            "/api/v1/layers", {"key": "checkout", "name": "Again"}, format="json"
        ).status_code
        == 400
    )
    ready_experiment(key="in-layer", layer=Layer.objects.get(key="checkout"))
    assert editor.delete("/api/v1/layers/checkout").status_code == 400
    assert [layer["key"] for layer in editor.get("/api/v1/layers").json()] == ["checkout"]


@pytest.mark.django_db
def test_experiment_create__unknown_layer__400(editor) -> None:
    LayerFactory(key="real")
    body = {"key": "e", "name": "E", "layer": "imaginary"}
    response = editor.post("/api/v1/experiments", body, format="json")
    assert response.status_code == 400
    assert "imaginary" in response.json()["layer"][0]
