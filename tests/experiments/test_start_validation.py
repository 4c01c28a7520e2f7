"""Starting checks the definition; each broken rule gives a message that names the problem."""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import ExperimentMetric
from experiments.services.lifecycle import experiment_transition
from tests.factories import ExperimentFactory, MetricFactory, VariantFactory, ready_experiment

ACTOR = Actor.system("test")


def _start_errors(experiment) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as info:
        experiment_transition(actor=ACTOR, experiment=experiment, action="start")
    experiment.refresh_from_db()
    assert experiment.status == "draft"
    return info.value.errors


@pytest.mark.django_db
def test_start__no_control__names_the_missing_control() -> None:
    experiment = ready_experiment()
    experiment.variants.update(is_control=False)
    assert "none is marked" in " ".join(_start_errors(experiment)["variants"])


@pytest.mark.django_db
def test_start__one_variant__needs_two() -> None:
    experiment = ready_experiment(variants=("control",))
    assert "at least two variants" in " ".join(_start_errors(experiment)["variants"])


@pytest.mark.django_db
def test_start__no_primary_metric__says_so() -> None:
    experiment = ready_experiment()
    experiment.metric_links.all().delete()
    assert "primary metric" in " ".join(_start_errors(experiment)["metrics"])


@pytest.mark.django_db
def test_start__invalid_targeting__reports_where() -> None:
    experiment = ready_experiment(targeting={"country": {"$in": "CN"}})
    messages = " ".join(_start_errors(experiment)["targeting"])
    assert "country" in messages


@pytest.mark.django_db
def test_start__secondary_only_metrics__still_needs_primary() -> None:
    experiment = ExperimentFactory()
    VariantFactory(experiment=experiment, key="a", is_control=True)
    VariantFactory(experiment=experiment, key="b")
    ExperimentMetric.objects.create(
        experiment=experiment, metric=MetricFactory(key="m"), role="secondary"
    )
    assert "metrics" in _start_errors(experiment)
