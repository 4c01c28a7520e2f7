"""Experiment templates: complete designs, metrics by key, missing metrics left out by name."""

from __future__ import annotations

import pytest
from django.utils import translation

from core.actors import Actor
from experiments.demo import METRICS
from experiments.models import Experiment, Metric
from experiments.services.experiments import experiment_create
from experiments.services.lifecycle import experiment_transition
from experiments.templates_catalogue import TEMPLATES, template_design, template_get

ACTOR = Actor.system("test")


@pytest.fixture
def library(db: None) -> None:
    """The demo's metrics library: every metric a template recommends."""
    for metric in METRICS:
        Metric.objects.create(**metric)


def test_catalogue__pricing_onboarding_promotion__one_primary_and_one_control_each() -> None:
    assert [t.key for t in TEMPLATES] == ["pricing", "onboarding", "promotion"]
    for template in TEMPLATES:
        assert [m.role for m in template.metrics].count("primary") == 1, template.key
        assert [v.is_control for v in template.variants].count(True) == 1, template.key
        assert any(v.payload for v in template.variants), template.key
        assert {m.role for m in template.metrics} >= {"primary", "guardrail"}, template.key


@pytest.mark.parametrize("key", ["pricing", "onboarding", "promotion"])
def test_design__full_library__creates_a_draft_that_can_start(library, key) -> None:
    design = template_design(template_get(key))
    assert design.missing_metrics == ()
    experiment = experiment_create(actor=ACTOR, data=design.data)
    assert experiment.key == f"{key}-test"
    started = experiment_transition(actor=ACTOR, experiment=experiment, action="start")
    assert started.status == "running"


def test_design__metric_not_in_this_library__left_out_and_named(library) -> None:
    Metric.objects.filter(key__in=["refund_rate", "aov"]).delete()
    design = template_design(template_get("pricing"))
    assert design.missing_metrics == ("aov", "refund_rate")
    assert [m["metric"] for m in design.data["metrics"]] == ["paid_conversion", "arpu"]
    experiment_create(actor=ACTOR, data=design.data)  # still a valid draft


def test_design__key_taken__next_free_key(library) -> None:
    experiment_create(actor=ACTOR, data=template_design(template_get("promotion")).data)
    assert template_design(template_get("promotion")).data["key"] == "promotion-test-2"
    assert Experiment.objects.count() == 1


def test_design__chinese_reader__texts_in_chinese(library) -> None:
    with translation.override("zh-hans"):
        data = template_design(template_get("onboarding")).data
    assert data["variants"][0]["payload"] == {"flow": "tour"}
    assert all("\u4e00" <= ch <= "\u9fff" for ch in data["name"][:2])


def test_get__unknown_or_empty__none() -> None:
    assert template_get("nope") is None
    assert template_get(None) is None
