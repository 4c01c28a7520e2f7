"""Duplicating an experiment as a new draft: the design is copied, the history is not."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.models import Experiment, ExperimentMetric, ExperimentStatus, Variant

from .audit import audit_record, experiment_state
from .definitions_cache import definitions_changed
from .validation import Errors

MAX_KEY_LENGTH = Experiment._meta.get_field("key").max_length or 64
MAX_NAME_LENGTH = Experiment._meta.get_field("name").max_length or 200
# The design travels with a copy; the run (dates, slice, phase, decision, learnings) does not.
COPIED_FIELDS = (
    "hypothesis",
    "expected_effect",
    "kind",
    "coverage",
    "unit_attribute",
    "targeting",
    "layer_id",
    "layer_share",
    "data_source_id",
    "planned_sample_size",
    "planned_duration_days",
    "refresh_minutes",
    "alpha",
    "method",
    "correction",
    "cuped",
    "mde",
    "guardrail_auto_pause",
    "history_segments",
    "segment_correction",
)
VARIANT_FIELDS = ("key", "name", "weight", "is_control", "payload", "description", "position")


def duplicate_key_suggest(key: str) -> str:
    """The first free key of the form ``<key>-copy``, ``<key>-copy-2``, ``<key>-copy-3``, …,
    shortened at the end of ``key`` when the suffix would pass the longest key allowed."""
    taken = set(Experiment.objects.filter(key__contains="-copy").values_list("key", flat=True))
    number = 1
    while True:
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        candidate = key[: MAX_KEY_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1


def duplicate_name_suggest(name: str) -> str:
    """The copy's default name: the original's with "(copy)" after it, within the length."""
    pattern = _("%(name)s (copy)")
    room = MAX_NAME_LENGTH - len(pattern % {"name": ""})
    return pattern % {"name": name[:room]}


def _check_key(key: str, errors: Errors) -> None:
    if len(key) > MAX_KEY_LENGTH:
        errors.setdefault("key", []).append(
            _("Keep the key to %(limit)s characters or fewer (it has %(length)s).")
            % {"limit": MAX_KEY_LENGTH, "length": len(key)}
        )
        return
    try:
        validate_slug(key)
    except ValidationError:
        errors.setdefault("key", []).append(
            _("Use letters, digits, dashes and underscores only, e.g. pricing-pro-tier-2.")
        )
        return
    if Experiment.objects.filter(key=key).exists():
        errors.setdefault("key", []).append(
            _('An experiment with key "%(key)s" exists. Choose another key.') % {"key": key}
        )


def _check_name(name: str, errors: Errors) -> None:
    if not name.strip():
        errors.setdefault("name", []).append(_("Give the copy a name."))
    elif len(name) > MAX_NAME_LENGTH:
        errors.setdefault("name", []).append(
            _("Keep the name to %(limit)s characters or fewer (it has %(length)s).")
            % {"limit": MAX_NAME_LENGTH, "length": len(name)}
        )


@transaction.atomic
def experiment_duplicate(
    *,
    actor: Actor,
    experiment: Experiment,
    key: str | None = None,
    name: str | None = None,
) -> Experiment:
    """A new draft with ``experiment``'s design: hypothesis, variants (payloads and weights),
    targeting, coverage, layer, metrics with their roles and the analysis plan.

    The copy gets its own key (``key``, or ``<key>-copy``, ``-copy-2``, … when not given) and a
    new salt, so its units are hashed afresh; it has no exposures, snapshots, QA overrides,
    dates, layer slice, decision or learnings. Both experiments get an audit entry.
    """
    errors: Errors = {}
    key = key if key else duplicate_key_suggest(experiment.key)
    _check_key(key, errors)
    name = name if name is not None and name != "" else duplicate_name_suggest(experiment.name)
    _check_name(name, errors)
    if errors:
        raise ValidationFailed(errors)

    copy = Experiment(
        key=key,
        name=name.strip(),
        status=ExperimentStatus.DRAFT,
        salt=secrets.token_hex(8),
        owner=actor.user if actor.user is not None else experiment.owner,
        **{field: getattr(experiment, field) for field in COPIED_FIELDS},
    )
    copy.save()
    Variant.objects.bulk_create(
        Variant(experiment=copy, **{field: getattr(v, field) for field in VARIANT_FIELDS})
        for v in experiment.variants.all()
    )
    ExperimentMetric.objects.bulk_create(
        ExperimentMetric(
            experiment=copy,
            metric_id=link.metric_id,
            role=link.role,
            position=link.position,
            harm_threshold=link.harm_threshold,
        )
        for link in experiment.metric_links.all()
    )
    audit_record(
        actor=actor,
        action="duplicate",
        experiment=copy,
        after=experiment_state(copy),
        message=f'Duplicated from "{experiment.key}".',
    )
    audit_record(
        actor=actor,
        action="duplicate",
        experiment=experiment,
        message=f'Duplicated as the new draft "{copy.key}".',
    )
    definitions_changed()
    return copy
