"""QA overrides: unit ids forced into a variant of an experiment (reason "forced" when assigned).

Forced units are recorded with ``forced = true`` and left out of analysis. Every change writes
an audit entry and bumps the definitions version so assign servers pick it up.

A unit id here has no whitespace: "qa-anna qa-bob" is two ids pasted on one line, never one
unit, so it is refused (``override_unit_id_check``) by every door: the API, the experiment
page and the admin. A pasted list, one id per line, is set all at once or not at all
(``override_set_lines``), and a refusal names every offending line.
"""

from __future__ import annotations

from typing import cast

from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ValidationFailed
from core.limits import MAX_UNIT_ID_LENGTH, storable_text
from experiments.models import Experiment, ExperimentStatus, Override, Variant

from .audit import audit_record
from .definitions_cache import definitions_changed

# Most unit ids forced from one pasted list, so one request stays one short transaction.
MAX_OVERRIDE_LINES = 500


def _state(override: Override) -> dict[str, str]:
    return {"unit_id": override.unit_id, "variant": override.variant.key, "note": override.note}


def _unit_id_problem(unit_id: object) -> str | None:
    """Why ``unit_id`` cannot be forced, in the reader's language, or None when it can."""
    if not isinstance(unit_id, str) or not unit_id.strip():
        return _("Give the unit id to force (a non-empty string).")
    if any(character.isspace() for character in unit_id):
        return _(
            "“%(unit)s” contains whitespace: a unit id has no spaces, tabs or line breaks, so "
            "this looks like several ids. Force each id on its own."
        ) % {"unit": unit_id.strip()[:80]}
    if len(unit_id) > MAX_UNIT_ID_LENGTH:
        return _("At most %(count)s characters.") % {"count": MAX_UNIT_ID_LENGTH}
    if not storable_text(unit_id):
        return _("Must be valid Unicode text without NUL characters or lone surrogates.")
    return None


def override_unit_id_check(unit_id: object) -> str:
    """``unit_id`` if it can be forced; ``ValidationFailed`` on ``unit_id`` otherwise (empty,
    with whitespace, too long, or text the database cannot store)."""
    problem = _unit_id_problem(unit_id)
    if problem is not None:
        raise ValidationFailed({"unit_id": [problem]})
    return cast(str, unit_id)


def override_lines_parse(text: str) -> list[str]:
    """The unit ids of a pasted list, one per line: blank lines are skipped, spaces around an
    id are dropped, a repeated id counts once. ``ValidationFailed`` on ``unit_id`` names every
    offending line (an id with a space inside, say), so nothing is stored from a bad list."""
    lines = text.splitlines()
    problems: list[str] = []
    unit_ids: dict[str, None] = {}  # in the order pasted, each once
    for number, line in enumerate(lines, start=1):
        unit_id = line.strip()
        if not unit_id:
            continue
        problem = _unit_id_problem(unit_id)
        if problem is not None:
            problems.append(
                _("Line %(number)s: %(problem)s") % {"number": number, "problem": problem}
            )
        else:
            unit_ids[unit_id] = None
    if problems:
        raise ValidationFailed({"unit_id": problems})
    if not unit_ids:
        raise ValidationFailed({"unit_id": [_("Give at least one unit id, one per line.")]})
    if len(unit_ids) > MAX_OVERRIDE_LINES:
        raise ValidationFailed(
            {
                "unit_id": [
                    _("At most %(count)s unit ids at once (got %(got)s).")
                    % {"count": MAX_OVERRIDE_LINES, "got": len(unit_ids)}
                ]
            }
        )
    return list(unit_ids)


def _variant(experiment: Experiment, variant_key: str) -> Variant:
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
    return variant


def _set_one(
    *, actor: Actor, experiment: Experiment, unit_id: str, variant: Variant, note: str
) -> tuple[Override, bool]:
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
    return override, existing is None


@transaction.atomic
def override_set(
    *, actor: Actor, experiment: Experiment, unit_id: str, variant_key: str, note: str = ""
) -> tuple[Override, bool]:
    """Force ``unit_id`` into the variant ``variant_key``; return the override and whether it is
    new (an existing override of the unit is replaced)."""
    unit_id = override_unit_id_check(unit_id)
    variant = _variant(experiment, variant_key)
    saved = _set_one(
        actor=actor, experiment=experiment, unit_id=unit_id, variant=variant, note=note
    )
    definitions_changed()
    return saved


@transaction.atomic
def override_set_lines(
    *, actor: Actor, experiment: Experiment, text: str, variant_key: str, note: str = ""
) -> list[tuple[Override, bool]]:
    """Force the unit ids of a pasted list (one per line, ``override_lines_parse``) into
    ``variant_key``: all of them, or none with the offending lines named. Returns each
    override and whether it is new; one audit entry is written per unit."""
    unit_ids = override_lines_parse(text)
    variant = _variant(experiment, variant_key)
    saved = [
        _set_one(actor=actor, experiment=experiment, unit_id=unit_id, variant=variant, note=note)
        for unit_id in unit_ids
    ]
    definitions_changed()
    return saved


@transaction.atomic
def override_delete(*, actor: Actor, experiment: Experiment, override: Override) -> None:
    """Remove a QA override: the unit is hashed like any other from its next assignment."""
    before = _state(override)
    override.delete()
    audit_record(actor=actor, action="override_delete", experiment=experiment, before=before)
    definitions_changed()
