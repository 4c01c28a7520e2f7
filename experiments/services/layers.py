"""Disjoint traffic slices for the experiments of a layer."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import Experiment, ExperimentStatus, Layer

from .audit import audit_record

# Statuses that hold a slice of their layer.
HOLDING = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)
EPSILON = 1e-9


def free_ranges(layer: Layer, *, exclude: Experiment | None = None) -> list[tuple[float, float]]:
    """The parts of [0, 1) of a layer that no running or paused experiment holds."""
    taken = Experiment.objects.filter(
        layer=layer, status__in=HOLDING, layer_start__isnull=False
    ).order_by("layer_start")
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    gaps: list[tuple[float, float]] = []
    cursor = 0.0
    for exp in taken:
        if exp.layer_start > cursor + EPSILON:
            gaps.append((cursor, exp.layer_start))
        cursor = max(cursor, exp.layer_end)
    if cursor < 1.0 - EPSILON:
        gaps.append((cursor, 1.0))
    return gaps


def layer_allocate(*, experiment: Experiment) -> tuple[float, float]:
    """Give a starting experiment the first free slice of its layer of ``layer_share`` width.

    The caller holds a lock on the layer row so two starts cannot take the same slice.
    """
    layer = Layer.objects.select_for_update().get(pk=experiment.layer_id)
    share = experiment.layer_share
    for start, end in free_ranges(layer, exclude=experiment):
        if end - start >= share - EPSILON:
            return start, round(start + share, 9)
    free = sum(end - start for start, end in free_ranges(layer, exclude=experiment))
    raise ValidationFailed(
        {
            "layer": [
                _(
                    'Layer "%(key)s" has no free slice of %(share)s: the largest free share in '
                    "one piece is smaller (%(free)s free in all). Stop another experiment in the "
                    "layer or ask for a smaller layer share."
                )
                % {"key": layer.key, "share": f"{share:.0%}", "free": f"{free:.0%}"}
            ]
        }
    )


def _layer_state(layer: Layer) -> dict[str, str]:
    return {"key": layer.key, "name": layer.name, "description": layer.description}


@transaction.atomic
def layer_create(*, actor: Actor, key: str, name: str, description: str = "") -> Layer:
    """Create a layer; the audit log records who created it."""
    if Layer.objects.filter(key=key).exists():
        raise ValidationFailed({"key": [_('A layer with key "%(key)s" exists.') % {"key": key}]})
    layer = Layer.objects.create(key=key, name=name, description=description)
    audit_record(
        actor=actor, action="create", object_type="layer", object_key=key, after=_layer_state(layer)
    )
    return layer


@transaction.atomic
def layer_update(
    *, actor: Actor, layer: Layer, name: str | None = None, description: str | None = None
) -> Layer:
    """Rename or describe a layer (its key is fixed); a change writes an audit entry."""
    before = _layer_state(layer)
    if name is not None:
        layer.name = name
    if description is not None:
        layer.description = description
    layer.save()
    after = _layer_state(layer)
    if before != after:
        audit_record(
            actor=actor,
            action="update",
            object_type="layer",
            object_key=layer.key,
            before=before,
            after=after,
        )
    return layer


@transaction.atomic
def layer_delete(*, actor: Actor, layer: Layer) -> None:
    """Delete a layer no experiment uses; the audit entry keeps what it was."""
    used_by = list(layer.experiments.values_list("key", flat=True))
    if used_by:
        raise ValidationFailed(
            _('Layer "%(key)s" is used by experiments: %(used_by)s.')
            % {"key": layer.key, "used_by": ", ".join(used_by)}
        )
    audit_record(
        actor=actor,
        action="delete",
        object_type="layer",
        object_key=layer.key,
        before=_layer_state(layer),
    )
    layer.delete()
