"""Starting an experiment that can show the same unit two treatments of one kind warns."""

from __future__ import annotations

import pytest

from core.actors import Actor
from experiments.models import AuditLogEntry
from experiments.services.lifecycle import experiment_transition
from experiments.services.overlaps import conditions_may_overlap
from tests.factories import LayerFactory, ready_experiment

ACTOR = Actor.system("test")


def _start(experiment):
    return experiment_transition(actor=ACTOR, experiment=experiment, action="start")


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ({}, {}, True),
        ({"country": "CN"}, {}, True),
        ({"country": "CN"}, {"country": "SG"}, False),
        ({"country": "CN"}, {"country": {"$in": ["SG", "CN"]}}, True),
        ({"country": {"$in": ["CN", "HK"]}}, {"country": {"$in": ["SG", "MY"]}}, False),
        ({"country": {"$eq": "CN"}}, {"country": {"$in": ["SG"]}}, False),
        ({"country": {"$ne": "CN"}}, {"country": "CN"}, True),  # not modelled: may overlap
        ({"plan": "free", "country": "CN"}, {"plan": "pro", "country": "CN"}, False),
        ({"app_version": {"$vgte": "3.0.0"}}, {"app_version": {"$vlt": "3.0.0"}}, True),
        ({"$or": [{"country": "CN"}]}, {"country": "SG"}, True),
        ({"n": 1}, {"n": 1.0}, True),
        ({"n": 1}, {"n": "1"}, True),  # SDKs may coerce: taken as the same value
        ({"n": 1}, {"n": 2}, False),
    ],
)
def test_conditions_may_overlap__pinned_values__disjoint_only_when_provably(a, b, overlap):
    assert conditions_may_overlap(a, b) is overlap
    assert conditions_may_overlap(b, a) is overlap


def test_start__same_kind_and_unit_overlapping_targeting__warns_and_audits(db: None) -> None:
    first = _start(ready_experiment(kind="pricing", targeting={"country": "CN"}))
    second = _start(ready_experiment(kind="pricing", targeting={}))
    assert second.status == "running"
    assert len(second.warnings) == 1
    assert first.key in second.warnings[0]
    entry = AuditLogEntry.objects.get(experiment=second, action="start")
    assert entry.after["warnings"] == list(second.warnings)
    assert first.key in entry.message
    assert first.warnings == []


@pytest.mark.parametrize(
    "other",
    [
        {"kind": "onboarding"},
        {"unit_attribute": "account_id"},
        {"targeting": {"country": "SG"}},
    ],
)
def test_start__different_kind_unit_or_disjoint_targeting__no_warning(db: None, other) -> None:
    _start(ready_experiment(kind="pricing", targeting={"country": "CN"}))
    fields = {"kind": "pricing", "targeting": {"country": "CN"}, **other}
    assert _start(ready_experiment(**fields)).warnings == []


def test_start__both_in_one_layer__no_warning(db: None) -> None:
    layer = LayerFactory()
    _start(ready_experiment(kind="pricing", layer=layer, layer_share=0.5))
    second = _start(ready_experiment(kind="pricing", layer=layer, layer_share=0.5))
    assert second.warnings == []


def test_start__other_experiment_stopped__no_warning(db: None) -> None:
    first = _start(ready_experiment(kind="pricing"))
    experiment_transition(actor=ACTOR, experiment=first, action="stop")
    assert _start(ready_experiment(kind="pricing")).warnings == []
