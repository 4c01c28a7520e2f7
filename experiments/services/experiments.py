"""Creating and editing experiment definitions, with the rules that protect running ones."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from core.actors import Actor
from core.errors import ValidationFailed
from experiments.history_segments import history_config
from experiments.models import (
    Experiment,
    ExperimentMetric,
    ExperimentStatus,
    Layer,
    Metric,
    Variant,
)

from .audit import audit_record, experiment_state
from .data_sources import (
    data_source_for_key,
    data_source_key,
    data_source_locked_message,
)
from .definitions_cache import definitions_changed
from .validation import (
    Errors,
    check_metric_roles,
    check_segment_plan,
    check_targeting,
    check_variants,
)

PLAN_FIELDS = (
    "alpha",
    "method",
    "correction",
    "cuped",
    "mde",
    "guardrail_auto_pause",
    "history_segments",
    "segment_correction",
)
SIMPLE_FIELDS = (
    "name",
    "hypothesis",
    "expected_effect",
    "learnings",
    "kind",
    "unit_attribute",
    "targeting",
    "layer_share",
    "scheduled_start_at",
    "scheduled_stop_at",
    "planned_sample_size",
    "planned_duration_days",
    "refresh_minutes",
)
VARIANT_LOCKED_FIELDS = ("weight", "is_control", "payload")
VARIANT_STORED_FIELDS = ("name", "weight", "is_control", "payload", "description")
# The readout's texts: a short expected effect ("+5% paid conversion") and the learnings.
MAX_EXPECTED_EFFECT_LENGTH = Experiment._meta.get_field("expected_effect").max_length or 200
MAX_LEARNINGS_LENGTH = 20000


def check_readout_texts(data: dict[str, Any], errors: Errors) -> None:
    """The expected effect and the learnings, when given: text within their lengths."""
    limits = {"expected_effect": MAX_EXPECTED_EFFECT_LENGTH, "learnings": MAX_LEARNINGS_LENGTH}
    for field, limit in limits.items():
        if field not in data or data[field] is None:
            continue
        value = data[field]
        if not isinstance(value, str):
            errors.setdefault(field, []).append(_("Enter text."))
        elif len(value) > limit:
            errors.setdefault(field, []).append(
                _("Keep it to %(limit)s characters or fewer (it has %(length)s).")
                % {"limit": limit, "length": len(value)}
            )


def _required() -> str:
    """The message for a nested item given without a field it needs (a variant's key)."""
    return _("This field is required.")


def _validate_definition(data: dict[str, Any]) -> tuple[Errors, dict[str, Metric], Layer | None]:
    errors: Errors = {}
    check_readout_texts(data, errors)
    if "variants" in data:
        for i, variant in enumerate(data["variants"]):
            if not variant.get("key"):
                errors.setdefault(f"variants[{i}].key", []).append(_required())
        check_variants(data["variants"], errors)
    metrics_by_key: dict[str, Metric] = {}
    if "metrics" in data:
        check_metric_roles(data["metrics"], errors)
        wanted = {m.get("metric") for m in data["metrics"]} - {None}
        metrics_by_key = {m.key: m for m in Metric.objects.filter(key__in=wanted)}
        for i, link in enumerate(data["metrics"]):
            for field in ("metric", "role"):
                if not link.get(field):
                    errors.setdefault(f"metrics[{i}].{field}", []).append(_required())
            if not link.get("metric"):
                continue
            if link["metric"] not in metrics_by_key:
                errors.setdefault(f"metrics[{i}].metric", []).append(
                    _('No metric with key "%(key)s". Create it in the metrics library first.')
                    % {"key": link["metric"]}
                )
            if link.get("harm_threshold") is not None and link.get("role") != "guardrail":
                errors.setdefault(f"metrics[{i}].harm_threshold", []).append(
                    _("A harm threshold applies to guardrail metrics only.")
                )
    if "targeting" in data:
        check_targeting(data["targeting"], errors)
    check_segment_plan(data, errors)
    if "data_source" in data:
        data_source_for_key(data["data_source"], errors)
    layer = None
    if data.get("layer"):
        layer = Layer.objects.filter(key=data["layer"]).first()
        if layer is None:
            errors.setdefault("layer", []).append(
                _('No layer with key "%(key)s".') % {"key": data["layer"]}
            )
    return errors, metrics_by_key, layer


def owner_lookup(name: str | None, errors: Errors) -> Any:
    """The active user with this username, or None when no name is given; an unknown or
    deactivated user is an error on ``owner``."""
    if not name:
        return None
    user = get_user_model().objects.filter(username=name, is_active=True).first()
    if user is None:
        errors.setdefault("owner", []).append(
            _('No active user named "%(name)s".') % {"name": name}
        )
    return user


def _exists_message(key: str) -> str:
    return _('An experiment with key "%(key)s" exists.') % {"key": key}


def _write_variants(experiment: Experiment, variants: list[dict[str, Any]]) -> None:
    existing = {v.key: v for v in experiment.variants.all()}
    wanted_keys = [v["key"] for v in variants]
    experiment.variants.exclude(key__in=wanted_keys).delete()
    # Clear the control flag first so the one-control constraint holds during the swap.
    experiment.variants.filter(is_control=True).exclude(
        key__in=[v["key"] for v in variants if v.get("is_control")]
    ).update(is_control=False)
    for position, data in enumerate(variants):
        variant = existing.get(data["key"]) or Variant(experiment=experiment, key=data["key"])
        variant.name = data.get("name") or data["key"]
        variant.weight = data.get("weight", 1.0)
        variant.is_control = bool(data.get("is_control", False))
        variant.payload = data.get("payload", {}) if data.get("payload") is not None else {}
        variant.description = data.get("description", "")
        variant.position = position
        variant.save()


def _write_metrics(
    experiment: Experiment, links: list[dict[str, Any]], metrics_by_key: dict[str, Metric]
) -> None:
    experiment.metric_links.all().delete()
    ExperimentMetric.objects.bulk_create(
        ExperimentMetric(
            experiment=experiment,
            metric=metrics_by_key[link["metric"]],
            role=link["role"],
            position=i,
            harm_threshold=link.get("harm_threshold"),
        )
        for i, link in enumerate(links)
    )


@transaction.atomic
def experiment_create(*, actor: Actor, data: dict[str, Any]) -> Experiment:
    """Create a draft experiment with its variants and metric links."""
    errors, metrics_by_key, layer = _validate_definition(data)
    owner = owner_lookup(data.get("owner"), errors)
    if Experiment.objects.filter(key=data["key"]).exists():
        errors.setdefault("key", []).append(_exists_message(data["key"]))
    if errors:
        raise ValidationFailed(errors)
    experiment = Experiment(key=data["key"], layer=layer, owner=owner or actor.user)
    experiment.salt = data.get("salt") or ""
    experiment.coverage = data.get("coverage", 1.0)
    _apply_fields(experiment, data)
    experiment.save()
    _write_variants(experiment, data.get("variants", []))
    _write_metrics(experiment, data.get("metrics", []), metrics_by_key)
    audit_record(
        actor=actor, action="create", experiment=experiment, after=experiment_state(experiment)
    )
    definitions_changed()
    return experiment


def _default(field: str) -> Any:
    return Experiment._meta.get_field(field).get_default()


def _apply_fields(experiment: Experiment, data: dict[str, Any]) -> None:
    """Copy the plain fields and the analysis plan from ``data`` (null means the default)."""
    for field in SIMPLE_FIELDS:
        if field in data:
            setattr(experiment, field, data[field] if data[field] is not None else _default(field))
    if "data_source" in data:
        experiment.data_source = data_source_for_key(data["data_source"], {})
    for field in PLAN_FIELDS:
        if field in data.get("analysis_plan", {}):
            setattr(experiment, field, data["analysis_plan"][field])
    if "history_segments" in data.get("analysis_plan", {}):
        experiment.history_segments = history_config(experiment.history_segments)
    if experiment.segment_correction is None:
        experiment.segment_correction = _default("segment_correction")


def _locked_changes(experiment: Experiment, data: dict[str, Any]) -> Errors:
    """Changes a started experiment refuses: they would silently move or relabel units."""
    errors: Errors = {}
    hint = _(
        "Start a new phase (POST .../new-phase) to change randomization of a started experiment."
    )
    if "key" in data and data["key"] != experiment.key:
        errors["key"] = [_("The key cannot change once the experiment has started.")]
    if data.get("salt") and data["salt"] != experiment.hash_seed:
        errors["salt"] = [_("The salt cannot change silently. %(hint)s") % {"hint": hint}]
    if "coverage" in data and data["coverage"] < experiment.coverage:
        errors["coverage"] = [
            _("Lowering coverage from %(old)s to %(new)s would drop assigned units. %(hint)s")
            % {"old": experiment.coverage, "new": data["coverage"], "hint": hint}
        ]
    if "unit_attribute" in data and data["unit_attribute"] != experiment.unit_attribute:
        errors["unit_attribute"] = [
            _("The randomization unit cannot change once the experiment has started.")
        ]
    if "layer" in data and (data["layer"] or None) != (
        experiment.layer.key if experiment.layer_id else None
    ):
        errors["layer"] = [_("The layer cannot change once the experiment has started.")]
    if "data_source" in data and data_source_key(data["data_source"]) != (
        experiment.data_source.key if experiment.data_source_id else None
    ):
        errors["data_source"] = [data_source_locked_message()]
    if "variants" in data:
        current = {v.key: v for v in experiment.variants.all()}
        if {v.get("key") for v in data["variants"]} != set(current):
            errors.setdefault("variants", []).append(
                _("Variants cannot be added or removed once started. %(hint)s") % {"hint": hint}
            )
        else:
            for i, v in enumerate(data["variants"]):
                old = current[v["key"]]
                for field in VARIANT_LOCKED_FIELDS:
                    if field in v and v[field] != getattr(old, field):
                        errors.setdefault(f"variants[{i}].{field}", []).append(
                            _(
                                'The %(field)s of variant "%(key)s" cannot change silently '
                                "once started. %(hint)s"
                            )
                            % {"field": field, "key": old.key, "hint": hint}
                        )
    return errors


def _with_stored_variant_fields(experiment: Experiment, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each given variant of a stored key completed from the stored variant: an
    item that leaves a field out (a PATCH renaming a variant) keeps its weight, control flag,
    payload, name and description instead of taking the defaults. New variants are as given."""
    if not isinstance(data.get("variants"), list):
        return data
    stored = {v.key: v for v in experiment.variants.all()}
    variants = []
    for item in data["variants"]:
        old = stored.get(item.get("key")) if isinstance(item, dict) else None
        if old is not None:
            kept = {field: getattr(old, field) for field in VARIANT_STORED_FIELDS}
            item = {**kept, **item}
        variants.append(item)
    return {**data, "variants": variants}


@transaction.atomic
def experiment_update(*, actor: Actor, experiment: Experiment, data: dict[str, Any]) -> Experiment:
    """Edit an experiment. Drafts change freely; started ones keep their randomization.

    After start, raising coverage is allowed (no assigned unit moves), names and descriptions
    may change, and analysis-plan or metric changes are allowed but recorded as plan changes.
    """
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    if experiment.status == ExperimentStatus.ARCHIVED:
        raise ValidationFailed(_("An archived experiment cannot be edited."))
    started = experiment.status != ExperimentStatus.DRAFT
    data = _with_stored_variant_fields(experiment, data)
    errors, metrics_by_key, layer = _validate_definition(data)
    owner = owner_lookup(data.get("owner"), errors)
    if started:
        for field, messages in _locked_changes(experiment, data).items():
            errors.setdefault(field, []).extend(messages)
    elif (
        "key" in data
        and data["key"] != experiment.key
        and Experiment.objects.filter(key=data["key"]).exists()
    ):
        errors.setdefault("key", []).append(_exists_message(data["key"]))
    if errors:
        raise ValidationFailed(errors)

    before = experiment_state(experiment)
    if not started:
        if "key" in data:
            experiment.key = data["key"]
        if "salt" in data:
            experiment.salt = data["salt"] or ""
        if "layer" in data:
            experiment.layer = layer
    if "coverage" in data:
        experiment.coverage = data["coverage"]
    if owner is not None:
        experiment.owner = owner
    _apply_fields(experiment, data)
    experiment.save()
    if "variants" in data:
        _write_variants(experiment, data["variants"])
    if "metrics" in data:
        _write_metrics(experiment, data["metrics"], metrics_by_key)
    after = experiment_state(experiment)
    if before != after:
        audit_record(
            actor=actor, action="update", experiment=experiment, before=before, after=after
        )
        plan_changed = before["analysis_plan"] != after["analysis_plan"] or (
            before["metrics"] != after["metrics"]
        )
        if started and plan_changed:
            audit_record(
                actor=actor,
                action="plan_change",
                experiment=experiment,
                before={"analysis_plan": before["analysis_plan"], "metrics": before["metrics"]},
                after={"analysis_plan": after["analysis_plan"], "metrics": after["metrics"]},
                message="Analysis plan changed after start.",
            )
        definitions_changed()
    return experiment


@transaction.atomic
def experiment_delete(*, actor: Actor, experiment: Experiment) -> None:
    """Delete a draft. Started experiments are archived instead, to keep their history."""
    if experiment.status != ExperimentStatus.DRAFT:
        raise ValidationFailed(
            _("Only drafts can be deleted; archive a started experiment instead.")
        )
    audit_record(
        actor=actor,
        action="delete",
        experiment=None,
        object_key=experiment.key,
        before=experiment_state(experiment),
    )
    experiment.delete()
    definitions_changed()


@transaction.atomic
def experiment_learnings_set(*, actor: Actor, experiment: Experiment, learnings: str) -> Experiment:
    """Write the learnings of an experiment's readout (what was learned, what to do next).

    Any status may take them (reviews are often written after the conclusion or the archive);
    the change is written to the audit log.
    """
    errors: Errors = {}
    check_readout_texts({"learnings": learnings}, errors)
    if errors:
        raise ValidationFailed(errors)
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    before = experiment.learnings
    if learnings == before:
        return experiment
    experiment.learnings = learnings
    experiment.save(update_fields=["learnings", "updated_at"])
    audit_record(
        actor=actor,
        action="learnings",
        experiment=experiment,
        before={"learnings": before},
        after={"learnings": learnings},
    )
    return experiment
