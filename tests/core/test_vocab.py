"""The shared vocabulary has one home: the models, the results contract and the rules use it."""

from __future__ import annotations

from types import SimpleNamespace

from analysis.engine import contract, decision, health
from core import vocab
from experiments import models


def test_model_choices__made_from_the_vocabulary__same_values_and_labels() -> None:
    pairs = [
        (models.ExperimentKind, vocab.ExperimentKind),
        (models.ExperimentStatus, vocab.ExperimentStatus),
        (models.Decision, vocab.Decision),
        (models.MetricType, vocab.MetricType),
        (models.MetricRole, vocab.MetricRole),
    ]
    for model_choices, enum in pairs:
        assert model_choices.choices == vocab.choices(enum)
        assert all(model_choices[m.name] == m for m in enum)


def test_contract_values__members_of_the_vocabulary() -> None:
    assert set(contract.RECOMMENDATIONS) == set(vocab.Recommendation)
    assert set(contract.OUTCOMES) == set(vocab.Outcome)
    assert contract.SHIP == "ship" and contract.KEEP_RUNNING == "keep_running"


def test_finished__one_definition__used_by_decision_and_health() -> None:
    assert {"stopped", "concluded", "archived"} == set(vocab.FINISHED_STATUSES)
    assert decision.FINISHED_STATUSES is vocab.FINISHED_STATUSES
    assert health.FINISHED_STATUSES is vocab.FINISHED_STATUSES


def test_primary_of__links__first_primary_or_none() -> None:
    links = [SimpleNamespace(role=r, key=k) for r, k in [("guardrail", "g"), ("primary", "p")]]
    assert vocab.primary_of(links).key == "p"
    assert vocab.primary_of(links[:1]) is None
