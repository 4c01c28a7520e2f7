"""The control-plane API: create, edit, lifecycle actions, errors, immutability after start."""

from __future__ import annotations

import copy

import pytest

from experiments.models import AuditLogEntry, Experiment, Phase
from tests.factories import MetricFactory

BODY = {
    "key": "pricing-pro-tier",
    "name": "Pro tier at 29",
    "hypothesis": "A cheaper Pro tier converts more free users.",
    "kind": "pricing",
    "coverage": 1.0,
    "unit_attribute": "user_id",
    "layer": None,
    "targeting": {"country": {"$in": ["CN", "SG"]}},
    "variants": [
        {
            "key": "free",
            "name": "Free",
            "weight": 50,
            "is_control": True,
            "payload": {"plan": "free"},
        },
        {
            "key": "pro",
            "name": "Pro",
            "weight": 50,
            "is_control": False,
            "payload": {"plan": "pro", "monthly_price": 29},
        },
    ],
    "metrics": [
        {"metric": "paid_conversion", "role": "primary"},
        {"metric": "arpu", "role": "secondary"},
    ],
    "analysis_plan": {
        "alpha": 0.05,
        "method": "frequentist",
        "correction": "holm",
        "cuped": True,
        "mde": 0.05,
    },
}


@pytest.fixture
def metrics(db: None) -> None:
    MetricFactory(key="paid_conversion")
    MetricFactory(key="arpu", type="mean", value_field="revenue")


def _body(**changes) -> dict:
    body = copy.deepcopy(BODY)
    body.update(changes)
    return body


def _create(client, body=None):
    return client.post("/api/v1/experiments", body or BODY, format="json")


@pytest.mark.django_db
def test_create__documented_body__201_with_nested_definition(editor, metrics) -> None:
    response = _create(editor)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft"
    assert data["salt"] == "pricing-pro-tier"
    assert [v["key"] for v in data["variants"]] == ["free", "pro"]
    assert data["variants"][1]["payload"] == {"plan": "pro", "monthly_price": 29}
    assert data["metrics"] == BODY["metrics"]
    assert data["analysis_plan"] == {**BODY["analysis_plan"], "guardrail_auto_pause": False}
    assert data["allowed_actions"] == ["start", "archive"]
    assert AuditLogEntry.objects.filter(action="create", object_key="pricing-pro-tier").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {
                "variants": [
                    {"key": "a", "weight": 1, "is_control": True},
                    {"key": "b", "weight": 1, "is_control": True},
                ]
            },
            "variants",
            "2 are marked",
        ),
        (
            {
                "variants": [
                    {"key": "a", "weight": 1, "is_control": True},
                    {"key": "b", "weight": 0},
                ]
            },
            "variants[1].weight",
            "weights must be positive",
        ),
        (
            {
                "variants": [
                    {"key": "a", "weight": 1, "is_control": True},
                    {"key": "b", "weight": -3},
                ]
            },
            "variants[1].weight",
            "weights must be positive",
        ),
        (
            {
                "variants": [
                    {"key": "a", "weight": 1, "is_control": True},
                    {"key": "a", "weight": 1},
                ]
            },
            "variants",
            "used 2 times",
        ),
        ({"targeting": {"country": {"$bogus": 1}}}, "targeting", "$bogus"),
        ({"targeting": ["not", "an", "object"]}, "targeting", "JSON object"),
        ({"metrics": [{"metric": "nope", "role": "primary"}]}, "metrics[0].metric", "No metric"),
        (
            {
                "metrics": [
                    {"metric": "paid_conversion", "role": "primary"},
                    {"metric": "arpu", "role": "primary"},
                ]
            },
            "metrics",
            "exactly one primary",
        ),
        ({"coverage": 1.5}, "coverage", "less than or equal to 1"),
        ({"kind": "lottery"}, "kind", "not a valid choice"),
        ({"analysis_plan": {"method": "vibes"}}, "analysis_plan.method", "not a valid choice"),
        ({"key": "Not A Slug!"}, "key", "slug"),
        ({"surprise": 1}, "surprise", "Unknown field"),
    ],
)
def test_create__bad_input__400_names_the_field_and_stores_nothing(
    editor, metrics, change, field, words
) -> None:
    response = _create(editor, _body(**change))
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert words.lower() in str(errors[field]).lower()
    assert not Experiment.objects.exists()


@pytest.mark.django_db
def test_create__malformed_json__400(editor) -> None:
    response = editor.post("/api/v1/experiments", "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_create__duplicate_key__400(editor, metrics) -> None:
    assert _create(editor).status_code == 201
    response = _create(editor)
    assert response.status_code == 400
    assert "exists" in response.json()["key"][0]


@pytest.mark.django_db
def test_start__without_control__400_and_still_draft(editor, metrics) -> None:
    body = _body(variants=[{"key": "a", "weight": 1}, {"key": "b", "weight": 1}])
    assert _create(editor, body).status_code == 201
    response = editor.post("/api/v1/experiments/pricing-pro-tier/start", {}, format="json")
    assert response.status_code == 400
    assert "control" in str(response.json()["variants"])
    assert Experiment.objects.get().status == "draft"


@pytest.mark.django_db
def test_start__without_primary_metric__400(editor, metrics) -> None:
    body = _body(metrics=[{"metric": "arpu", "role": "secondary"}])
    assert _create(editor, body).status_code == 201
    response = editor.post("/api/v1/experiments/pricing-pro-tier/start", {}, format="json")
    assert response.status_code == 400
    assert "primary" in str(response.json()["metrics"])


@pytest.mark.django_db
def test_unknown_key__404_for_get_and_actions(editor) -> None:
    assert editor.get("/api/v1/experiments/nope").status_code == 404
    assert editor.post("/api/v1/experiments/nope/start", {}, format="json").status_code == 404
    assert editor.get("/api/v1/metrics/nope").status_code == 404


@pytest.mark.django_db
def test_action__not_allowed_from_status__409_with_allowed_actions(editor, metrics) -> None:
    _create(editor)
    response = editor.post("/api/v1/experiments/pricing-pro-tier/resume", {}, format="json")
    assert response.status_code == 409
    assert "Allowed now: start, archive" in response.json()["status"][0]


@pytest.fixture
def running(editor, metrics) -> None:
    assert _create(editor).status_code == 201
    response = editor.post("/api/v1/experiments/pricing-pro-tier/start", {}, format="json")
    assert response.status_code == 200, response.json()


URL = "/api/v1/experiments/pricing-pro-tier"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": "renamed"}, "key"),
        ({"salt": "reshuffle"}, "salt"),
        ({"coverage": 0.5}, "coverage"),
        ({"unit_attribute": "account_id"}, "unit_attribute"),
        (
            {
                "variants": [
                    {"key": "free", "weight": 20, "is_control": True, "payload": {"plan": "free"}},
                    {"key": "pro", "weight": 80, "payload": {"plan": "pro", "monthly_price": 29}},
                ]
            },
            "variants[0].weight",
        ),
        (
            {
                "variants": [
                    {"key": "free", "weight": 50, "is_control": True, "payload": {"plan": "free"}},
                    {"key": "pro", "weight": 50, "payload": {"plan": "pro", "monthly_price": 19}},
                ]
            },
            "variants[1].payload",
        ),
        ({"variants": [{"key": "free", "weight": 1, "is_control": True}]}, "variants"),
    ],
)
def test_update_after_start__randomization_change__400_and_nothing_moves(
    editor, running, change, field
) -> None:
    before = editor.get(URL).json()
    response = editor.patch(URL, change, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    after = editor.get(URL).json()
    assert after["variants"] == before["variants"]
    assert (after["salt"], after["coverage"], after["key"]) == (
        before["salt"],
        before["coverage"],
        before["key"],
    )


@pytest.mark.django_db
def test_update_after_start__raise_coverage_and_rename__allowed(editor, running) -> None:
    editor.post(f"{URL}/new-phase", {"coverage": 0.5}, format="json")
    response = editor.patch(URL, {"coverage": 0.8, "name": "Pro tier, 80%"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["coverage"] == 0.8
    assert response.json()["phase"] == 2  # raising coverage does not start a phase


@pytest.mark.django_db
def test_update_after_start__plan_change__allowed_and_recorded(editor, running) -> None:
    response = editor.patch(URL, {"analysis_plan": {"alpha": 0.01}}, format="json")
    assert response.status_code == 200
    entry = AuditLogEntry.objects.get(action="plan_change")
    assert entry.before["analysis_plan"]["alpha"] == 0.05
    assert entry.after["analysis_plan"]["alpha"] == 0.01
    audit = editor.get(f"{URL}/audit").json()
    assert audit[0]["action"] == "plan_change"


@pytest.mark.django_db
def test_new_phase__weights_change__new_salt_and_phase_record(editor, running) -> None:
    response = editor.post(
        f"{URL}/new-phase", {"weights": {"free": 20, "pro": 80}, "reason": "ramp"}, format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["phase"] == 2
    assert data["salt"] != "pricing-pro-tier"
    assert {v["key"]: v["weight"] for v in data["variants"]} == {"free": 20, "pro": 80}
    phases = list(Phase.objects.order_by("number"))
    assert [p.number for p in phases] == [1, 2]
    assert phases[0].ended_at is not None and phases[1].ended_at is None
    assert phases[1].weights == {"free": 20, "pro": 80}
    assert AuditLogEntry.objects.filter(action="new_phase", message="ramp").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weights": {"gold": 1}}, "weights"),
        ({"weights": {"pro": 0}}, "weights"),
        ({"coverage": 2}, "coverage"),
        ({"salt": "pricing-pro-tier"}, "salt"),
    ],
)
def test_new_phase__bad_input__400_and_phase_unchanged(editor, running, body, field) -> None:
    response = editor.post(f"{URL}/new-phase", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Experiment.objects.get().phase == 1


@pytest.mark.django_db
def test_new_phase__draft__409(editor, metrics) -> None:
    _create(editor)
    assert editor.post(f"{URL}/new-phase", {}, format="json").status_code == 409


@pytest.mark.django_db
def test_delete__draft_deleted_started_refused(editor, metrics) -> None:
    _create(editor)
    editor.post(f"{URL}/start", {}, format="json")
    assert editor.delete(URL).status_code == 400
    assert Experiment.objects.exists()


@pytest.mark.django_db
def test_conclude__api__stores_decision(editor, running) -> None:
    editor.post(f"{URL}/stop", {}, format="json")
    response = editor.post(
        f"{URL}/conclude",
        {"decision": "ship", "winner": "pro", "review": "Expected +5%, saw +6%."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["conclusion"]["winner"] == "pro"
    assert response.json()["allowed_actions"] == ["archive"]


def test_start__overlapping_pricing_experiment__200_with_warnings_naming_it(
    editor, metrics
) -> None:
    assert _create(editor).status_code == 201
    first = editor.post("/api/v1/experiments/pricing-pro-tier/start", {}, format="json")
    assert first.status_code == 200
    assert first.json()["warnings"] == []
    second = _body(key="pricing-premium", targeting={"country": "CN"})
    assert _create(editor, second).status_code == 201
    response = editor.post("/api/v1/experiments/pricing-premium/start", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "running"
    assert len(body["warnings"]) == 1 and "pricing-pro-tier" in body["warnings"][0]
    audit = editor.get("/api/v1/experiments/pricing-premium/audit").json()
    start = next(e for e in audit if e["action"] == "start")
    assert "pricing-pro-tier" in start["message"]


def test_start__disjoint_targeting__no_warnings(editor, metrics) -> None:
    assert _create(editor).status_code == 201
    editor.post("/api/v1/experiments/pricing-pro-tier/start", {}, format="json")
    other = _body(key="pricing-us", targeting={"country": "US"})
    assert _create(editor, other).status_code == 201
    response = editor.post("/api/v1/experiments/pricing-us/start", {}, format="json")
    assert response.json()["warnings"] == []
