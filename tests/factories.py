"""Factories for the experiment domain."""

from __future__ import annotations

from typing import Any

import factory

from core.actors import Actor
from experiments.models import Experiment, ExperimentMetric, Layer, Metric, MetricRole, Variant
from experiments.services.lifecycle import experiment_transition


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"metric-{n}")
    name = factory.LazyAttribute(lambda o: o.key.replace("-", " ").title())
    type = "conversion"
    event = "purchase"
    window_hours = 168


class LayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Layer

    key = factory.Sequence(lambda n: f"layer-{n}")
    name = factory.LazyAttribute(lambda o: o.key)


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    key = factory.Sequence(lambda n: f"exp-{n}")
    name = factory.LazyAttribute(lambda o: f"Experiment {o.key}")
    kind = "pricing"


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    experiment = factory.SubFactory(ExperimentFactory)
    key = factory.Sequence(lambda n: f"v{n}")
    name = factory.LazyAttribute(lambda o: o.key)
    weight = 1.0


def ready_experiment(
    *, variants: tuple[str, ...] = ("control", "treatment"), **fields: Any
) -> Experiment:
    """A draft experiment that passes the start checks: variants, a control, a primary metric."""
    experiment = ExperimentFactory(**fields)
    for i, key in enumerate(variants):
        VariantFactory(
            experiment=experiment,
            key=key,
            is_control=(i == 0),
            position=i,
            payload={"variant": key},
        )
    ExperimentMetric.objects.create(
        experiment=experiment, metric=MetricFactory(key="conversion"), role=MetricRole.PRIMARY
    )
    return experiment


def started_experiment(**fields: Any) -> Experiment:
    experiment = ready_experiment(**fields)
    return experiment_transition(actor=Actor.system("test"), experiment=experiment, action="start")
