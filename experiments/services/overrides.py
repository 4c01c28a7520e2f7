"""QA overrides: unit ids forced into a variant of an experiment (reason "forced" when assigned).

Forced units are recorded with ``forced = true`` and left out of analysis. Every change writes
an audit entry and bumps the definitions version so assign servers pick it up.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ValidationFailed
from core.limits import MAX_UNIT_ID_LENGTH, storable_text
from experiments.models import Experiment, ExperimentStatus, Override

from .audit import audit_record
from .definitions_cache import definitions_changed


def _state(override: Override) -> dict[str, str]:
    return {"unit_id": override.unit_id, "variant": override.variant.key, "note": override.note}


def _check_unit_id(unit_id: object) -> str:
    if not isinstance(unit_id, str) or not unit_id.strip():
        raise ValidationFailed({"unit_id": [_("Give the unit id to force (a non-empty string).")]})
    if len(unit_id) > MAX_UNIT_ID_LENGTH:
        raise ValidationFailed(
            {"unit_id": [_("At most %(count)s characters.") % {"count": MAX_UNIT_ID_LENGTH}]}
        )
    if not storable_text(unit_id):
        raise ValidationFailed(
            {
                "unit_id": [
                    _("Must be valid Unicode text without NUL characters or lone surrogates.")
                ]
            }
        )
    return unit_id


@transaction.atomic
def override_set(
    *, actor: Actor, experiment: Experiment, unit_id: str, variant_key: str, note: str = ""
) -> tuple[Override, bool]:
    """Force ``unit_id`` into the variant ``variant_key``; return the override and whether it is
    new (an existing override of the unit is replaced)."""
    unit_id = _check_unit_id(unit_id)
    if experiment.status == ExperimentStatus.ARCHIVED:
        raise ValidationFailed({"experiment": [_("An archived experiment takes no overrides.")]})
    variant = experiment.variants.filter(key=variant_key).first()
    if variant is None:
        known = ", ".join(experiment.variants.values_list("key", flat=True)) or _("none")
        raise ValidationFailed(
            {
                "variant": [
                    _('No variant "%(key)s" in this experiment (variants: %(known)s).')
                    % {"key": variant_key, "known": known}
                ]
            }
        )
    existing = (
        Override.objects.select_for_update()
        .select_related("variant")
        .filter(experiment=experiment, unit_id=unit_id)
        .first()
    )
    before = _state(existing) if existing else None
    if existing is None:
        override = Override.objects.create(
            experiment=experiment, unit_id=unit_id, variant=variant, note=note
        )
    else:
        override = existing
        override.variant = variant
        override.note = note
        override.save(update_fields=["variant", "note"])
    audit_record(
        actor=actor,
        action="override_set",
        experiment=experiment,
        before=before,
        after=_state(override),
        message=note,
    )
    definitions_changed()
    return override, existing is None


@transaction.atomic
def override_delete(*, actor: Actor, experiment: Experiment, override: Override) -> None:
    """Remove a QA override: the unit is hashed like any other from its next assignment."""
    before = _state(override)
    override.delete()
    audit_record(actor=actor, action="override_delete", experiment=experiment, before=before)
    definitions_changed()
