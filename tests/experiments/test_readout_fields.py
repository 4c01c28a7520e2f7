"""The readout's fields on an experiment: the expected effect stated at design time and the
learnings, through the API, the services and the guided form, each change audit-logged."""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import AuditLogEntry
from experiments.services.experiments import experiment_learnings_set, experiment_update
from experiments.services.lifecycle import experiment_transition
from tests.factories import MetricFactory, ready_experiment, started_experiment

pytestmark = pytest.mark.django_db

BODY = {
    "key": "annual-discount",
    "name": "Annual discount",
    "hypothesis": "Twelve months for ten moves monthly users to annual.",
    "expected_effect": "+5% annual upgrades",
    "variants": [
        {"key": "control", "weight": 1, "is_control": True},
        {"key": "discount", "weight": 1},
    ],
    "metrics": [{"metric": "upgrade", "role": "primary"}],
}


def test_api_create__expected_effect__stored_served_and_audited(editor) -> None:
    MetricFactory(key="upgrade")
    response = editor.post("/api/v1/experiments", BODY, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["expected_effect"] == "+5% annual upgrades" and data["learnings"] == ""
    created = AuditLogEntry.objects.get(action="create", object_key="annual-discount")
    assert created.after["expected_effect"] == "+5% annual upgrades"


def test_api_patch__learnings_after_start__saved_and_audited(editor) -> None:
    exp = started_experiment()
    response = editor.patch(
        f"/api/v1/experiments/{exp.key}",
        {"learnings": "Discounts pull demand forward."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["learnings"] == "Discounts pull demand forward."
    update = AuditLogEntry.objects.filter(experiment=exp, action="update").latest("id")
    assert update.after["learnings"] == "Discounts pull demand forward."


@pytest.mark.parametrize(
    ("body", "field"),
    [({"expected_effect": "x" * 201}, "expected_effect"), ({"learnings": 5}, "learnings")],
)
def test_api_patch__bad_readout_text__400_on_the_field_and_unchanged(editor, body, field) -> None:
    exp = ready_experiment(expected_effect="+2%")
    response = editor.patch(f"/api/v1/experiments/{exp.key}", body, format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    exp.refresh_from_db()
    assert exp.expected_effect == "+2%" and exp.learnings == ""


def test_update_service__expected_effect_too_long__error_on_the_field() -> None:
    exp = ready_experiment()
    with pytest.raises(ValidationFailed) as caught:
        experiment_update(actor=Actor.system(), experiment=exp, data={"expected_effect": "x" * 201})
    assert list(caught.value.errors) == ["expected_effect"]


def test_learnings_set__unchanged__no_audit_entry() -> None:
    exp = ready_experiment(learnings="Same.")
    experiment_learnings_set(actor=Actor.system(), experiment=exp, learnings="Same.")
    assert not AuditLogEntry.objects.filter(experiment=exp, action="learnings").exists()


def test_learnings_set__archived__still_written() -> None:
    exp = ready_experiment()
    exp = experiment_transition(actor=Actor.system(), experiment=exp, action="archive")
    done = experiment_learnings_set(actor=Actor.system(), experiment=exp, learnings="Never ran.")
    assert done.learnings == "Never ran."


def test_learnings_set__too_long__error_on_learnings_and_unchanged() -> None:
    exp = ready_experiment()
    with pytest.raises(ValidationFailed) as caught:
        experiment_learnings_set(actor=Actor.system(), experiment=exp, learnings="x" * 20001)
    assert list(caught.value.errors) == ["learnings"]
    exp.refresh_from_db()
    assert exp.learnings == ""


def test_conclude_api__learnings__stored_with_the_decision(editor) -> None:
    exp = started_experiment()
    exp = experiment_transition(actor=Actor.system(), experiment=exp, action="stop")
    response = editor.post(
        f"/api/v1/experiments/{exp.key}/conclude",
        {"decision": "inconclusive", "learnings": "Too little traffic."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["learnings"] == "Too little traffic."
