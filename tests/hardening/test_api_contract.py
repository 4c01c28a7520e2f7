"""The API keeps to its schema: each finding of the schemathesis runs (issue 15), reproduced.

- a number for a text field was stored as text (``"name": 0`` became ``"0"``);
- an unknown ``status``/``kind`` filter answered ``200 []``;
- nested 400 bodies (``{"variants": {"0": {...}}}``) were not the documented field map;
- the exposures parse error, 413 and 429 were not in the schema;
- attribute arrays with null items were accepted although the schema refused them.

Issue 21 (the schema, defect 10):

- ``allowed_actions`` answers named ``new-phase``, which the schema's enum left out;
- blank names and text with a NUL character were refused (400) although the schema allowed
  them: every request text field now carries the pattern the server holds it to, and slugs
  are no longer trimmed (the schema's slug pattern has no room for white space);
- the results history's ``limit`` took any integer by the schema, and 1-1000 by the server.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import jsonschema
import pytest
from django.test import override_settings
from rest_framework import serializers
from rest_framework.test import APIClient

from core.actors import Actor
from core.api_errors import flatten_errors
from experiments.models import Experiment, ExperimentKind, ExperimentStatus, Layer, Metric
from experiments.services.lifecycle import allowed_actions, experiment_transition
from tests.factories import LayerFactory, MetricFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _is_field_map(body: Any) -> bool:
    """The documented 400 shape: ``{"field path": ["message", ...]}``, flat."""
    return isinstance(body, dict) and all(
        isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
        for messages in body.values()
    )


# --- numbers for text fields ---------------------------------------------------------------


def _experiment_body(**fields: Any) -> dict[str, Any]:
    MetricFactory(key="paid")
    body = {
        "key": "typed",
        "name": "Typed",
        "kind": "pricing",
        "variants": [
            {"key": "a", "name": "A", "is_control": True},
            {"key": "b", "name": "B"},
        ],
        "metrics": [{"metric": "paid", "role": "primary"}],
    }
    body.update(fields)
    return body


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/api/v1/layers", {"key": "l-new", "name": 0}, "name"),
        ("patch", "/api/v1/layers/l1", {"description": 12.5}, "description"),
        ("post", "/api/v1/metrics", {"key": 7, "name": "N", "type": "conversion"}, "key"),
        ("patch", "/api/v1/metrics/m1", {"name": True}, "name"),
        (
            "put",
            "/api/v1/metrics/m1",
            {"key": "m1", "name": "M", "type": "conversion", "event": 0},
            "event",
        ),
        ("patch", "/api/v1/experiments/draft", {"hypothesis": 1}, "hypothesis"),
        ("patch", "/api/v1/experiments/draft", {"unit_attribute": 5}, "unit_attribute"),
        (
            "post",
            "/api/v1/experiments/running/overrides",
            {"unit_id": 5, "variant": "a"},
            "unit_id",
        ),
        ("post", "/api/v1/experiments/running/new-phase", {"reason": 0}, "reason"),
        ("post", "/api/v1/experiments/running/pause", {"reason": ["x"]}, "reason"),
    ],
)
def test_text_field__number_or_other_non_string__400_names_field_and_nothing_changes(
    editor, method: str, url: str, body: dict[str, Any], field: str
) -> None:
    LayerFactory(key="l1", name="Layer one", description="kept")
    MetricFactory(key="m1", name="Kept")
    ready_experiment(key="draft", hypothesis="kept")
    started_experiment(key="running", variants=("a", "b"))
    before = (
        list(Layer.objects.values()),
        list(Metric.objects.values()),
        list(Experiment.objects.values()),
    )

    response = getattr(editor, method)(url, body, format="json")

    assert response.status_code == 400, response.content
    assert _is_field_map(response.json())
    assert response.json()[field][0].startswith("Must be a string, got ")
    after = (
        list(Layer.objects.values()),
        list(Metric.objects.values()),
        list(Experiment.objects.values()),
    )
    assert after == before


def test_experiment_create__number_for_a_variant_name__400_with_its_path(editor) -> None:
    body = _experiment_body()
    body["variants"][1]["name"] = 0
    response = editor.post("/api/v1/experiments", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"variants[1].name": ["Must be a string, got a number."]}
    assert not Experiment.objects.filter(key="typed").exists()


def test_conclude__number_for_review__400_names_review(editor) -> None:
    exp = started_experiment(key="to-conclude")
    experiment_transition(actor=Actor.system("test"), experiment=exp, action="stop")
    response = editor.post(
        f"/api/v1/experiments/{exp.key}/conclude",
        {"decision": "keep_control", "review": 42},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json() == {"review": ["Must be a string, got a number."]}
    exp.refresh_from_db()
    assert exp.status == ExperimentStatus.STOPPED and not exp.decision


def test_text_fields__strings__still_accepted(editor) -> None:
    created = editor.post("/api/v1/experiments", _experiment_body(name="0"), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "0"


def test_schema__strict_text_fields__documented_as_strings(schema) -> None:
    schemas = schema["components"]["schemas"]
    assert schemas["LayerInput"]["properties"]["name"]["type"] == "string"
    assert schemas["ExperimentInput"]["properties"]["key"]["type"] == "string"
    assert "pattern" in schemas["ExperimentInput"]["properties"]["key"]


# --- list filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ("status=live", "status", ExperimentStatus.values),
        ("kind=0", "kind", ExperimentKind.values),
        ("status=", "status", ExperimentStatus.values),
        ("status=draft&status=running", "status", None),
    ],
)
def test_experiment_list__unknown_filter_value__400_naming_the_allowed_values(
    viewer, query: str, field: str, allowed: list[str] | None
) -> None:
    ready_experiment(key="one")
    response = viewer.get(f"/api/v1/experiments?{query}")
    assert response.status_code == 400, response.content
    [message] = response.json()[field]
    for value in allowed or []:
        assert value in message


def test_experiment_list__known_filter_values__filter(viewer) -> None:
    ready_experiment(key="a-draft")
    started_experiment(key="a-running")
    running = viewer.get("/api/v1/experiments?status=running&kind=pricing")
    assert running.status_code == 200
    assert [e["key"] for e in running.json()] == ["a-running"]


def test_schema__experiment_list__enumerates_filters_and_documents_400(schema) -> None:
    operation = schema["paths"]["/api/v1/experiments"]["get"]
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert set(params["status"]["enum"]) == set(ExperimentStatus.values)
    assert set(params["kind"]["enum"]) == set(ExperimentKind.values)
    assert "400" in operation["responses"]


# --- nested errors as field paths ----------------------------------------------------------


def test_experiment_create__nested_errors__flat_field_paths(editor) -> None:
    body = _experiment_body(
        variants=[{"key": "a", "is_control": True}, {"key": "b", "weight": "heavy"}],
        metrics=[{"metric": "paid", "role": "decisive"}],
        analysis_plan={"alpha": 2},
    )
    response = editor.post("/api/v1/experiments", body, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert _is_field_map(body)
    assert set(body) == {"variants[1].weight", "metrics[0].role", "analysis_plan.alpha"}


def test_experiment_create__not_a_list_for_variants__message_under_variants(editor) -> None:
    response = editor.post("/api/v1/experiments", _experiment_body(variants="ab"), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["variants"]


def test_metric_create__nested_ratio_error__flat_field_path(editor) -> None:
    body = {
        "key": "aov",
        "name": "AOV",
        "type": "ratio",
        "numerator": {"event": "purchase", "value_field": "revenue"},
        "denominator": {"event": ["purchase"]},
    }
    response = editor.post("/api/v1/metrics", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"denominator.event": ["Must be a string, got an array."]}
    assert not Metric.objects.filter(key="aov").exists()


def test_new_phase__weights_map_error__path_names_the_variant(editor) -> None:
    exp = started_experiment(key="phased")
    response = editor.post(
        f"/api/v1/experiments/{exp.key}/new-phase",
        {"weights": {"treatment": "x"}},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["weights.treatment"]


def test_flatten_errors__lists_maps_and_non_field_messages() -> None:
    detail = {
        "variants": {1: {"weight": ["bad"]}, 3: {"non_field_errors": ["whole"]}},
        "tags": {0: ["not text"]},
        "plan": {"non_field_errors": ["object expected"]},
        "non_field_errors": ["request"],
        "rows": [{}, {"x": ["y"]}],
    }
    assert flatten_errors(detail) == {
        "variants[1].weight": ["bad"],
        "variants[3]": ["whole"],
        "tags[0]": ["not text"],
        "plan": ["object expected"],
        "non_field_errors": ["request"],
        "rows[1].x": ["y"],
    }
    assert flatten_errors(["only a list"]) == {"non_field_errors": ["only a list"]}


# --- exposures, 413 and 429 in the schema ----------------------------------------------------


def test_exposures__body_not_json__400_detail_as_documented(schema, app_client) -> None:
    response = app_client.post(
        "/api/v1/exposures", data=b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["detail"]
    documented = schema["paths"]["/api/v1/exposures"]["post"]["responses"]["400"]
    shape = documented["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    options = schema["components"]["schemas"][shape]["oneOf"]
    assert {o["$ref"].rsplit("/", 1)[1] for o in options} == {"ValidationErrors", "ErrorDetail"}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/assign", "/api/v1/events", "/api/v1/exposures", "/api/v1/assign/{experiment_key}"],
)
def test_schema__runtime_endpoints__document_429_with_retry_after(schema, path: str) -> None:
    operations = schema["paths"][path]
    for operation in operations.values():
        if not isinstance(operation, dict) or "responses" not in operation:
            continue
        limited = operation["responses"]["429"]
        assert limited["headers"]["Retry-After"]["schema"]["type"] == "integer"
        assert "ErrorDetail" in limited["content"]["application/json"]["schema"]["$ref"]


def test_schema__every_operation_with_a_body__documents_413(schema) -> None:
    with_body = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert len(with_body) > 15
    for path, method in with_body:
        assert "413" in schema["paths"][path][method]["responses"], (method, path)


@override_settings(VERDICT_RUNTIME_KEY_RATE="2/m")
def test_runtime_rate_limit__answer__matches_the_documented_429(app_client) -> None:
    from django.core.cache import caches

    caches["default"].clear()
    body = json.dumps({"unit_id": "u-1"})
    answers = [
        app_client.post("/api/v1/assign", data=body, content_type="application/json")
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert list(answers[2].json()) == ["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_body_over_the_limit__answer__matches_the_documented_413(editor) -> None:
    response = editor.post("/api/v1/layers", {"key": "big", "name": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert list(response.json()) == ["detail"]
    assert not Layer.objects.filter(key="big").exists()


# --- null items in attribute arrays --------------------------------------------------------


def test_assign__null_item_in_an_attribute_array__accepted_and_targeted(app_client) -> None:
    started_experiment(key="tagged", targeting={"tags": {"$in": [None]}})
    answer = app_client.post(
        "/api/v1/assign",
        data=json.dumps({"unit_id": "u-1", "attributes": {"tags": ["a", None]}}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    [assignment] = answer.json()["assignments"]
    assert assignment["in_experiment"] is True
    without = app_client.post(
        "/api/v1/assign",
        data=json.dumps({"unit_id": "u-2", "attributes": {"tags": ["a"]}}),
        content_type="application/json",
    )
    assert without.json()["assignments"][0]["reason"] == "not_targeted"


def test_schema__attribute_arrays__allow_null_items(schema) -> None:
    body = schema["components"]["schemas"]["AssignInput"]["properties"]["attributes"]
    array = next(o for o in body["additionalProperties"]["oneOf"] if o.get("type") == "array")
    assert array["items"]["nullable"] is True


# --- issue 21: the schema says what the server refuses --------------------------------------


def test_schema__allowed_actions__name_every_action_an_answer_can_hold(schema, viewer) -> None:
    enum = schema["components"]["schemas"]["AllowedActionsEnum"]["enum"]
    for status in ExperimentStatus.values:
        assert set(allowed_actions(status)) <= set(enum), status
    started_experiment(key="live")
    answer = viewer.get("/api/v1/experiments/live").json()
    assert "new-phase" in answer["allowed_actions"]
    item = schema["components"]["schemas"]["ExperimentOutput"]["properties"]["allowed_actions"]
    jsonschema.validate(answer["allowed_actions"], {**item, "items": {"enum": enum}})


# Every request body serializer, by its schema component's name.
REQUEST_SERIALIZERS = {
    "experiments.api.serializers": [
        "ExperimentInput",
        "VariantInput",
        "MetricLinkInput",
        "ConcludeInput",
        "ReasonInput",
        "NewPhaseInput",
        "MetricInput",
        "RatioPartInput",
        "LayerInput",
    ],
    "experiments.api.overrides": ["OverrideInput"],
    "experiments.api.data_sources": ["DataSourceInput"],
}
TEXTS = ["", " ", " \t\n", "a", " a ", "key_1-x", "a\x00b", "\x00", "名前", "A b"]


def _text_fields() -> list[tuple[str, str, Any]]:
    found = []
    for module_name, names in REQUEST_SERIALIZERS.items():
        module = importlib.import_module(module_name)
        for name in names:
            for field_name, field in getattr(module, name)().fields.items():
                if isinstance(field, serializers.CharField) and not field.read_only:
                    found.append((name, field_name, field))
    return found


@pytest.mark.parametrize(
    ("component", "name", "field"),
    _text_fields(),
    ids=[f"{component}.{name}" for component, name, _ in _text_fields()],
)
def test_schema__request_text_field__accepts_exactly_the_texts_the_server_accepts(
    schema, component: str, name: str, field: Any
) -> None:
    """Blank texts and NUL characters (schemathesis: "valid request rejected")."""
    documented = schema["components"]["schemas"][component]["properties"][name]
    for text in TEXTS:
        try:
            field.run_validation(text)
            accepted = True
        except serializers.ValidationError:
            accepted = False
        assert jsonschema.Draft4Validator(documented).is_valid(text) == accepted, repr(text)


@pytest.mark.parametrize(
    ("method", "url", "body", "component"),
    [
        ("patch", "/api/v1/layers/l1", {"name": ""}, "PatchedLayerInput"),
        ("patch", "/api/v1/layers/l1", {"name": "  "}, "PatchedLayerInput"),
        ("post", "/api/v1/experiments", {"key": "blank", "name": ""}, "ExperimentInput"),
        ("post", "/api/v1/experiments/running/pause", {"reason": "held\x00"}, "ReasonInput"),
        ("post", "/api/v1/experiments/running/stop", {"reason": "\x00"}, "ReasonInput"),
        ("patch", "/api/v1/experiments/draft", {"key": " draft "}, "PatchedExperimentInput"),
    ],
)
def test_blank_or_nul_text__refused_and_the_schema_says_so(
    schema, editor, method: str, url: str, body: dict[str, Any], component: str
) -> None:
    LayerFactory(key="l1", name="Layer one")
    ready_experiment(key="draft")
    started_experiment(key="running")
    field = list(body)[-1]
    documented = schema["components"]["schemas"][component]["properties"][field]

    response = getattr(editor, method)(url, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not jsonschema.Draft4Validator(documented).is_valid(body[field])
    assert Layer.objects.get(key="l1").name == "Layer one"
    assert Experiment.objects.get(key="running").status == ExperimentStatus.RUNNING
    assert Experiment.objects.filter(key="draft").exists()


def test_schema__results_history_limit__documents_the_range_the_server_takes(
    schema, viewer
) -> None:
    [limit] = schema["paths"]["/api/v1/experiments/{key}/results/history"]["get"]["parameters"][-1:]
    assert limit["name"] == "limit"
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)
    started_experiment(key="h")
    assert viewer.get("/api/v1/experiments/h/results/history?limit=0").status_code == 400
    assert viewer.get("/api/v1/experiments/h/results/history?limit=1000").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("patch", "/api/v1/metrics/m1", {"higher_is_better": 0}, "higher_is_better"),
        ("patch", "/api/v1/metrics/m1", {"higher_is_better": "yes"}, "higher_is_better"),
        ("patch", "/api/v1/metrics/m1", {"window_hours": "24"}, "window_hours"),
        ("patch", "/api/v1/metrics/m1", {"winsorize_percentile": "99"}, "winsorize_percentile"),
        ("patch", "/api/v1/experiments/draft", {"coverage": "0.5"}, "coverage"),
        (
            "patch",
            "/api/v1/experiments/draft",
            {"planned_sample_size": 10.5},
            "planned_sample_size",
        ),
        ("patch", "/api/v1/experiments/draft", {"refresh_minutes": True}, "refresh_minutes"),
        (
            "patch",
            "/api/v1/experiments/draft",
            {"analysis_plan": {"cuped": 1}},
            "analysis_plan.cuped",
        ),
        (
            "patch",
            "/api/v1/experiments/draft",
            {"variants": [{"key": "control", "is_control": "true"}, {"key": "treatment"}]},
            "variants[0].is_control",
        ),
        (
            "post",
            "/api/v1/experiments/running/new-phase",
            {"weights": {"control": "2"}},
            "weights.control",
        ),
    ],
)
def test_number_or_boolean_field__other_json_type__400_names_field_nothing_changes(
    editor, method: str, url: str, body: dict[str, Any], field: str
) -> None:
    """schemathesis: ``"higher_is_better": 0`` was accepted as false (DRF reads 0, "yes",
    "1.5" and "24" as booleans and numbers; the schema says boolean, number, integer)."""
    MetricFactory(key="m1", name="Kept", higher_is_better=True)
    ready_experiment(key="draft")
    started_experiment(key="running")
    before = (list(Metric.objects.values()), list(Experiment.objects.values()))

    response = getattr(editor, method)(url, body, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert response.json()[field][0].startswith("Must be ")
    assert (list(Metric.objects.values()), list(Experiment.objects.values())) == before


@pytest.mark.parametrize(
    ("url", "body", "component", "field"),
    [
        ("/api/v1/experiments/draft", {"variants[0].key": "a"}, "PatchedExperimentInput", None),
        ("/api/v1/experiments/draft", {"status": "running"}, "PatchedExperimentInput", "status"),
        ("/api/v1/experiments/draft", {"phase": 3}, "PatchedExperimentInput", "phase"),
        ("/api/v1/data-sources/lake", {"colour": "blue"}, "PatchedDataSourceInput", None),
    ],
)
def test_closed_request_body__unknown_field__400_and_the_schema_closed(
    schema, client_for, url: str, body: dict[str, Any], component: str, field: str | None
) -> None:
    """schemathesis: unknown fields were refused although the schema allowed any (and
    ``status``, ``phase`` were silently ignored: a PATCH of the status did nothing)."""
    from experiments.services.data_sources import data_source_create

    data_source_create(
        actor=Actor.system("test"),
        data={"key": "lake", "name": "Lake", "kind": "builtin"},
    )
    ready_experiment(key="draft")
    assert schema["components"]["schemas"][component]["additionalProperties"] is False

    response = client_for("admin").patch(url, body, format="json")

    assert response.status_code == 400, response.content
    [name] = body
    message = response.json()[name][0]
    assert message == "Unknown field." if field is None else message.startswith("Read-only: ")
    assert Experiment.objects.get(key="draft").status == ExperimentStatus.DRAFT
