"""Running experiments that can show the same unit two treatments of the same kind.

Two experiments overlap when they randomize on the same unit attribute, are of the same kind
(two pricing tests, say), are not in one layer (a layer gives them disjoint slices) and their
targeting conditions may match the same unit. Whether two conditions can match a common unit is
undecidable in general; ``conditions_may_overlap`` is conservative: it answers False only when
some attribute is pinned to value sets that share nothing (``{"country": "CN"}`` against
``{"country": {"$in": ["SG", "MY"]}}``), and True otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from experiments.models import Experiment, ExperimentStatus

LIVE = (ExperimentStatus.RUNNING, ExperimentStatus.PAUSED)


def _canonical(value: Any) -> str:
    """A comparable form; numbers and numeric strings share one form (1, 1.0 and "1"), since
    SDKs may coerce between them, so such values are never taken as disjoint."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float | str):
        try:
            return repr(float(value))
        except ValueError:
            return json.dumps(value)
    return json.dumps(value, sort_keys=True)


def _pinned_values(constraint: Any) -> set[str] | None:
    """The finite set of values a top-level constraint allows, or None when it is not finite
    or not recognised (operators other than ``$eq`` and ``$in``)."""
    if isinstance(constraint, dict):
        if any(not str(k).startswith("$") for k in constraint):
            return None  # a literal object compared for equality
        allowed: set[str] | None = None
        for op, operand in constraint.items():
            if op == "$eq":
                values = {_canonical(operand)}
            elif op == "$in" and isinstance(operand, list):
                values = {_canonical(v) for v in operand}
            else:
                continue  # narrows further, never widens: ignoring it stays conservative
            allowed = values if allowed is None else allowed & values
        return allowed
    if isinstance(constraint, list):
        return None  # array equality; not worth modelling
    return {_canonical(constraint)}


def conditions_may_overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """False only when an attribute both conditions pin has no value they both allow."""
    for attribute in set(a) & set(b):
        if attribute.startswith("$"):
            continue
        left, right = _pinned_values(a[attribute]), _pinned_values(b[attribute])
        if left is not None and right is not None and not left & right:
            return False
    return True


def experiment_overlaps(*, experiment: Experiment) -> list[Experiment]:
    """Live experiments that may show ``experiment``'s units another treatment of its kind."""
    others = (
        Experiment.objects.filter(
            status__in=LIVE, kind=experiment.kind, unit_attribute=experiment.unit_attribute
        )
        .exclude(pk=experiment.pk)
        .order_by("key")
    )
    found = []
    for other in others:
        if experiment.layer_id is not None and other.layer_id == experiment.layer_id:
            continue
        if conditions_may_overlap(experiment.targeting or {}, other.targeting or {}):
            found.append(other)
    return found


def overlap_warnings(*, experiment: Experiment) -> list[str]:
    """One sentence per overlapping live experiment, for the start answer and the audit log."""
    message = _(
        'Running experiment "%(other)s" has the same kind (%(kind)s) and unit (%(unit)s) as this '
        "one, and its targeting can match the same units outside a shared layer: a unit may be in "
        "both. Put both in one layer to keep them apart."
    )
    return [
        message % {"other": other.key, "kind": experiment.kind, "unit": experiment.unit_attribute}
        for other in experiment_overlaps(experiment=experiment)
    ]
