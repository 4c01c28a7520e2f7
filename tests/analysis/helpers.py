"""Building experiments, exposures and events directly in the database for analysis tests."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from analysis.engine.contract import SnapshotInputs
from assignment.models import Event, Exposure
from core.actors import Actor
from experiments.models import Experiment, ExperimentMetric, Metric, Variant
from experiments.services.lifecycle import experiment_transition
from tests.factories import ExperimentFactory

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


def metric(key: str, type: str = "conversion", **fields: Any) -> Metric:
    defaults: dict[str, Any] = {"name": key, "type": type, "event": "purchase"}
    defaults.update(fields)
    found, _ = Metric.objects.get_or_create(key=key, defaults=defaults)
    return found


def experiment_with(
    metrics: list[tuple[Metric, str]],
    *,
    variants: tuple[str, ...] = ("control", "treatment"),
    weights: tuple[float, ...] | None = None,
    start: bool = True,
    **fields: Any,
) -> Experiment:
    """An experiment with the given (metric, role) links, started unless ``start`` is False."""
    experiment = ExperimentFactory(**fields)
    for i, key in enumerate(variants):
        Variant.objects.create(
            experiment=experiment,
            key=key,
            name=key.title(),
            weight=weights[i] if weights else 1.0,
            is_control=(i == 0),
            position=i,
        )
    for i, (m, role) in enumerate(metrics):
        ExperimentMetric.objects.create(experiment=experiment, metric=m, role=role, position=i)
    if start:
        experiment = experiment_transition(
            actor=Actor.system("test"), experiment=experiment, action="start"
        )
    return experiment


class Data:
    """Collects exposures and events, then writes them with bulk inserts."""

    def __init__(self, experiment: Experiment):
        self.experiment = experiment
        self.variants = {v.key: v for v in experiment.variants.all()}
        self.exposures: list[Exposure] = []
        self.events: list[Event] = []

    def expose(
        self,
        unit: str,
        variant: str,
        at: dt.datetime = T0,
        *,
        forced: bool = False,
        multiple: bool = False,
        attributes: dict[str, Any] | None = None,
        phase: int | None = None,
    ) -> Data:
        self.exposures.append(
            Exposure(
                experiment=self.experiment,
                phase=phase or self.experiment.phase,
                unit_id=unit,
                bucket_id=unit,
                variant=self.variants[variant],
                forced=forced,
                multiple_variants=multiple,
                attributes=attributes or {},
                first_exposed_at=at,
            )
        )
        return self

    def event(
        self,
        unit: str,
        at: dt.datetime,
        name: str = "purchase",
        value: float | None = None,
        properties: dict[str, Any] | None = None,
    ) -> Data:
        self.events.append(
            Event(
                event_id=f"e{next(_ids)}",
                unit_id=unit,
                event=name,
                timestamp=at,
                client_timestamp=at,
                received_at=at,
                value=value,
                properties=properties or {},
            )
        )
        return self

    def save(self) -> Data:
        Exposure.objects.bulk_create(self.exposures, batch_size=500)
        Event.objects.bulk_create(self.events, batch_size=500)
        self.exposures, self.events = [], []
        return self


def by_metric(results: dict[str, Any], key: str) -> dict[str, Any]:
    return next(m for m in results["metrics"] if m["metric"] == key)


def row(results: dict[str, Any], metric_key: str, variant: str) -> dict[str, Any]:
    return next(v for v in by_metric(results, metric_key)["variants"] if v["variant"] == variant)


def stats(inputs: SnapshotInputs, metric_key: str, variant: str) -> dict[str, Any]:
    """One arm's statistics of a metric, as stored (``to_dict``)."""
    return inputs.metric(metric_key).stats[variant].to_dict()
