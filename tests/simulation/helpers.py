"""Demo experiments for simulation tests, created through the services."""

from __future__ import annotations

import copy
from typing import Any

from core.actors import Actor
from experiments.demo import EXPERIMENTS, METRICS
from experiments.models import Experiment, Metric
from experiments.services.experiments import experiment_create
from experiments.services.lifecycle import experiment_transition
from experiments.services.metrics import metric_create

ACTOR = Actor.system("test")


def demo_experiment(key: str, **plan: Any) -> Experiment:
    """The demo experiment ``key``, started, with ``plan`` replacing analysis-plan fields."""
    data = copy.deepcopy(next(e for e in EXPERIMENTS if e["key"] == key))
    data.pop("start")
    data["analysis_plan"].update(plan)
    for metric in METRICS:
        if not Metric.objects.filter(key=metric["key"]).exists():
            metric_create(actor=ACTOR, data=metric)
    experiment = experiment_create(actor=ACTOR, data=data)
    return experiment_transition(actor=ACTOR, experiment=experiment, action="start")
