"""Metrics defined as code: every metric's definition as data, and a set of definitions applied
all or nothing through the metric services the API uses (their validation, the rule for metrics
of running experiments, their audit entries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import Metric

from .metrics import FIELDS, metric_create, metric_update

Problems = dict[str, dict[str, list[str]]]


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class MetricChange:
    """What applying one definition does: ``fields`` holds every changed field (for a created
    metric, every field with its value)."""

    key: str
    action: Literal["created", "changed", "unchanged"]
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class MetricsApplied:
    """The outcome of ``metrics_apply``: ``stored`` is false on a dry run or when any metric has
    a problem (``problems``: metric key -> field -> messages), and then nothing was stored."""

    changes: tuple[MetricChange, ...]
    left_alone: tuple[str, ...]
    problems: Problems = field(default_factory=dict)
    stored: bool = False


def metric_definition(metric: Metric) -> dict[str, Any]:
    """A metric's definition: its key and every field the metric services take, in order."""
    return {"key": metric.key, **{name: getattr(metric, name) for name in FIELDS}}


def metrics_export() -> list[dict[str, Any]]:
    """Every metric's definition, by key."""
    return [metric_definition(metric) for metric in Metric.objects.order_by("key")]


class _NothingStored(Exception):
    pass


def _change(key: str, before: dict[str, Any] | None, after: dict[str, Any]) -> MetricChange:
    if before is None:
        return MetricChange(
            key, "created", tuple(FieldChange(name, None, after[name]) for name in FIELDS)
        )
    changed = tuple(
        FieldChange(name, before[name], after[name])
        for name in FIELDS
        if before[name] != after[name]
    )
    return MetricChange(key, "changed" if changed else "unchanged", changed)


def metrics_apply(
    *,
    actor: Actor,
    definitions: Sequence[Mapping[str, Any]],
    dry_run: bool = False,
    problems: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> MetricsApplied:
    """Create or update each metric of ``definitions`` (each with its ``key``) with
    ``metric_create`` / ``metric_update``, all or nothing.

    ``problems`` are those the caller found while reading the definitions (keyed like the
    result's); with any problem, or on a dry run, nothing is stored and the changes say what
    would have been done. Stored metrics the definitions leave out are left alone.
    """
    found: Problems = {
        key: {f: list(m) for f, m in fields.items()} for key, fields in (problems or {}).items()
    }
    changes: list[MetricChange] = []
    keys = {str(d["key"]) for d in definitions} | set(found)
    try:
        with transaction.atomic():
            stored = {m.key: m for m in Metric.objects.select_for_update().filter(key__in=keys)}
            for data in sorted(definitions, key=lambda d: str(d["key"])):
                key = str(data["key"])
                metric = stored.get(key)
                before = metric_definition(metric) if metric is not None else None
                try:
                    if metric is None:
                        metric = metric_create(actor=actor, data=dict(data))
                    else:
                        metric = metric_update(actor=actor, metric=metric, data=dict(data))
                except ValidationFailed as failed:
                    for name, messages in failed.errors.items():
                        found.setdefault(key, {}).setdefault(name, []).extend(messages)
                    continue
                changes.append(_change(key, before, metric_definition(metric)))
            if dry_run or found:
                raise _NothingStored
    except _NothingStored:
        pass
    left_alone = tuple(
        Metric.objects.exclude(key__in=keys).order_by("key").values_list("key", flat=True)
    )
    return MetricsApplied(
        changes=tuple(changes),
        left_alone=left_alone,
        problems=dict(sorted(found.items())),
        stored=not (dry_run or found),
    )
