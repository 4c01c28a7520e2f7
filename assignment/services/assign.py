"""Deciding which variant a unit gets: the decision logic of the assign API.

Everything here works on the in-process definitions (``assignment.definitions``) and is
deterministic: the same unit, attributes and definitions give the same answer on every server.
Recording exposures is separate (``assignment.services.exposures``).

Evaluation order (GrowthBook's): a QA override first (reason ``forced``), then the experiment's
status, its targeting condition, the unit attribute, its layer slice, and finally the hash and
coverage. Reasons:

- in: ``hashed``, ``forced``;
- out: ``not_targeted``, ``missing_unit_attribute``, ``outside_layer``, ``outside_coverage``
  (these serve the control's payload, like GrowthBook's SDKs), ``paused`` (the control's
  payload), ``not_running`` (stopped or concluded: the shipped winner's payload if one was
  chosen, else the control's; draft or archived: no variant, no payload), and
  ``unknown_experiment`` (batch form only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assignment.definitions import Definitions, ExperimentDef, VariantDef
from assignment.hashing import choose_variation, hash_fraction, in_layer
from experiments.models import ExperimentStatus
from experiments.targeting import eval_condition
from experiments.targeting.jsvalues import number_to_string

__all__ = [
    "Assignment",
    "REASONS",
    "assign_experiment",
    "assign_unit",
    "bucket_id_of",
]

S = ExperimentStatus
HASHED = "hashed"
FORCED = "forced"
NOT_TARGETED = "not_targeted"
OUTSIDE_COVERAGE = "outside_coverage"
OUTSIDE_LAYER = "outside_layer"
NOT_RUNNING = "not_running"
PAUSED = "paused"
MISSING_UNIT_ATTRIBUTE = "missing_unit_attribute"
UNKNOWN_EXPERIMENT = "unknown_experiment"
REASONS = (
    HASHED,
    FORCED,
    NOT_TARGETED,
    OUTSIDE_COVERAGE,
    OUTSIDE_LAYER,
    NOT_RUNNING,
    PAUSED,
    MISSING_UNIT_ATTRIBUTE,
    UNKNOWN_EXPERIMENT,
)
STOPPED = (S.STOPPED, S.CONCLUDED)


@dataclass(frozen=True, slots=True)
class Assignment:
    """One experiment's answer for one unit.

    ``record`` says whether this answer is an exposure to store: the unit is in a running
    experiment (hashed or forced). ``bucket_id`` is the value that was hashed.
    """

    key: str
    variant: VariantDef | None
    in_experiment: bool
    reason: str
    experiment: ExperimentDef | None = None
    bucket_id: str | None = None
    record: bool = False

    def as_dict(self) -> dict[str, Any]:
        variant = self.variant
        return {
            "experiment": self.key,
            "variant": variant.key if variant is not None else None,
            "payload": variant.payload if variant is not None else None,
            "in_experiment": self.in_experiment,
            "reason": self.reason,
        }


def bucket_id_of(defn: ExperimentDef, unit_id: str, attributes: dict[str, Any]) -> str | None:
    """The id to hash: ``unit_id`` for ``user_id`` experiments, else that attribute's value.

    Strings are used as sent; numbers as JavaScript prints them (``42``, ``1.5``), as
    GrowthBook's SDKs do. Missing, empty, boolean or structured values give ``None``.
    """
    name = defn.unit_attribute
    if name == "user_id":
        return unit_id
    value = attributes.get(name)
    if isinstance(value, str):
        return value if value.strip() and len(value) <= 256 else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_to_string(value)
    return None


def _out(defn: ExperimentDef, reason: str, bucket_id: str | None = None) -> Assignment:
    return Assignment(
        key=defn.key,
        variant=defn.control,
        in_experiment=False,
        reason=reason,
        experiment=defn,
        bucket_id=bucket_id,
    )


def assign_experiment(defn: ExperimentDef, unit_id: str, attributes: dict[str, Any]) -> Assignment:
    """Decide what ``unit_id`` (with ``attributes``) gets in one experiment."""
    status = defn.status
    bucket_id = bucket_id_of(defn, unit_id, attributes)
    if defn.overrides:
        forced = defn.overrides.get(unit_id)
        if forced is None and bucket_id is not None:
            forced = defn.overrides.get(bucket_id)
        if forced is not None:
            return Assignment(
                key=defn.key,
                variant=forced,
                in_experiment=True,
                reason=FORCED,
                experiment=defn,
                bucket_id=bucket_id if bucket_id is not None else unit_id,
                record=status == S.RUNNING,
            )
    if status != S.RUNNING:
        if status == S.PAUSED:
            return _out(defn, PAUSED)
        variant = defn.served_when_stopped if status in STOPPED else None
        return Assignment(
            key=defn.key, variant=variant, in_experiment=False, reason=NOT_RUNNING, experiment=defn
        )
    if defn.targeting:
        target_attributes = attributes
        if "user_id" not in attributes:
            target_attributes = {**attributes, "user_id": unit_id}
        if not eval_condition(target_attributes, defn.targeting):
            return _out(defn, NOT_TARGETED)
    if bucket_id is None:
        return _out(defn, MISSING_UNIT_ATTRIBUTE)
    if defn.layer_key is not None and (
        defn.layer_start is None
        or defn.layer_end is None
        or not in_layer(bucket_id, defn.layer_key, defn.layer_start, defn.layer_end)
    ):
        return _out(defn, OUTSIDE_LAYER, bucket_id)
    n = hash_fraction(defn.salt, bucket_id)
    index = choose_variation(n, defn.ranges) if n is not None else -1
    if index < 0:
        return _out(defn, OUTSIDE_COVERAGE, bucket_id)
    return Assignment(
        key=defn.key,
        variant=defn.variants[index],
        in_experiment=True,
        reason=HASHED,
        experiment=defn,
        bucket_id=bucket_id,
        record=True,
    )


def assign_unit(
    definitions: Definitions,
    unit_id: str,
    attributes: dict[str, Any],
    keys: list[str] | None = None,
) -> list[Assignment]:
    """Assign ``unit_id`` in each experiment of ``keys`` (default: every live experiment).

    Live means running or paused. Keys of unknown experiments answer ``unknown_experiment``,
    archived ones ``not_running``.
    """
    by_key = definitions.by_key
    answers: list[Assignment] = []
    for key in definitions.live_keys if keys is None else keys:
        defn = by_key.get(key)
        if defn is not None:
            answers.append(assign_experiment(defn, unit_id, attributes))
        else:
            reason = NOT_RUNNING if key in definitions.archived else UNKNOWN_EXPERIMENT
            answers.append(Assignment(key=key, variant=None, in_experiment=False, reason=reason))
    return answers
