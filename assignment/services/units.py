"""Deleting one unit's data: its exposures, events and QA overrides (a data-subject request).

Snapshots hold per-variant sums only, never unit ids, so they are left as they are; the next
refresh of an experiment (scheduled or ``POST .../results/refresh``) recomputes its results
without the unit. Every deletion is written to the audit log under the SHA-256 of the unit id,
so the log proves the deletion happened without keeping the id it erased.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from assignment.models import Event, Exposure
from core.actors import Actor
from core.errors import ValidationFailed
from core.limits import MAX_UNIT_ID_LENGTH, storable_text
from experiments.models import AuditLogEntry, Experiment, Override
from experiments.services.audit import audit_record
from experiments.services.definitions_cache import definitions_changed

AUDIT_ACTION = "unit_data_delete"


@dataclass(frozen=True)
class UnitDeletion:
    """What one deletion removed."""

    unit_id: str
    unit_hash: str
    exposures: int = 0
    events: int = 0
    overrides: int = 0
    audit_entries: int = 0
    experiments: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "unit_id": self.unit_id,
            "unit_hash": self.unit_hash,
            "exposures": self.exposures,
            "events": self.events,
            "overrides": self.overrides,
            "audit_entries": self.audit_entries,
            "experiments": list(self.experiments),
        }


def unit_hash(unit_id: str) -> str:
    """The SHA-256 (hex) of a unit id: how the audit log names a deleted unit."""
    return hashlib.sha256(unit_id.encode("utf-8")).hexdigest()


def _check_unit_id(unit_id: object) -> str:
    # Any id that could have been stored is accepted, including ids that current input rules
    # refuse (e.g. whitespace only), so data stored under older rules can still be deleted.
    if not isinstance(unit_id, str) or unit_id == "":
        raise ValidationFailed({"unit_id": ["Give the unit id whose data to delete."]})
    if len(unit_id) > MAX_UNIT_ID_LENGTH:
        raise ValidationFailed(
            {"unit_id": [f"At most {MAX_UNIT_ID_LENGTH} characters; no unit has a longer id."]}
        )
    if not storable_text(unit_id):
        raise ValidationFailed(
            {"unit_id": ["Must be valid Unicode text without NUL characters or lone surrogates."]}
        )
    return unit_id


def _pseudonymize_audit(unit_id: str, digest: str) -> int:
    """Replace the unit id in earlier audit entries (override changes record it) by
    ``sha256:<digest>``; returns how many entries changed."""
    pseudonym = f"sha256:{digest}"
    changed = 0
    entries = AuditLogEntry.objects.filter(Q(before__unit_id=unit_id) | Q(after__unit_id=unit_id))
    for entry in entries.select_for_update():
        for side in ("before", "after"):
            state = getattr(entry, side)
            if isinstance(state, dict) and state.get("unit_id") == unit_id:
                setattr(entry, side, {**state, "unit_id": pseudonym})
        entry.save(update_fields=["before", "after"])
        changed += 1
    return changed


def _counts(experiment_ids: Iterable[int]) -> dict[int, int]:
    return dict(Counter(experiment_ids))


@transaction.atomic
def unit_data_delete(*, actor: Actor, unit_id: str) -> UnitDeletion:
    """Delete every exposure, event and QA override of ``unit_id`` and audit it; earlier
    audit entries that name the unit (override changes) keep only its hash.

    Writes one audit entry for the deletion (no experiment) and one per experiment whose
    exposures or overrides were deleted, so each experiment's audit log shows that its data
    changed. Deleting a unit with no data still records the request. Idempotent.
    """
    unit_id = _check_unit_id(unit_id)
    digest = unit_hash(unit_id)
    exposures = Exposure.objects.filter(unit_id=unit_id)
    overrides = Override.objects.filter(unit_id=unit_id)
    exposed = _counts(exposures.values_list("experiment_id", flat=True))
    forced = _counts(overrides.values_list("experiment_id", flat=True))
    exposure_count = exposures.delete()[0]
    override_count = overrides.delete()[0]
    event_count = Event.objects.filter(unit_id=unit_id).delete()[0]
    audit_count = _pseudonymize_audit(unit_id, digest)
    affected = Experiment.objects.filter(pk__in=set(exposed) | set(forced)).order_by("key")
    deletion = UnitDeletion(
        unit_id=unit_id,
        unit_hash=digest,
        exposures=exposure_count,
        events=event_count,
        overrides=override_count,
        audit_entries=audit_count,
        experiments=[e.key for e in affected],
    )
    summary = {k: v for k, v in deletion.as_dict().items() if k not in ("unit_id", "unit_hash")}
    audit_record(
        actor=actor,
        action=AUDIT_ACTION,
        object_type="unit",
        object_key=digest,
        after=summary,
        message="A unit's exposures, events and overrides were deleted.",
    )
    for experiment in affected:
        audit_record(
            actor=actor,
            action=AUDIT_ACTION,
            experiment=experiment,
            object_type="unit",
            object_key=digest,
            after={
                "exposures": exposed.get(experiment.pk, 0),
                "overrides": forced.get(experiment.pk, 0),
            },
            message="A unit's data was deleted; the next refresh leaves it out.",
        )
    if override_count:
        definitions_changed()
    return deletion
