"""Rules for an experiment's definition, as pure checks returning field-keyed messages.

Messages are translated into the active language (English unless a page or an API request
asks for another, see docs/i18n.md): each is looked up in the catalogue first and its values are
filled in after, so the catalogue holds one entry per sentence."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from django.utils.translation import gettext as _

from core.limits import MAX_WEIGHT, MAX_WEIGHT_TEXT
from experiments.history_segments import check_history_segments
from experiments.targeting import validate_condition

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def check_variants(variants: list[dict[str, Any]], errors: Errors) -> None:
    """Checks that hold for any saved definition: unique keys, weights above 0 and at most
    ``MAX_WEIGHT`` (so their sum is finite and the SDK payload splits as assign does), <= 1
    control."""
    keys = Counter(v.get("key") for v in variants)
    for key, count in keys.items():
        if count > 1:
            _add(
                errors,
                "variants",
                _('Variant key "%(key)s" is used %(count)s times; keys must be unique.')
                % {"key": key, "count": count},
            )
    for i, variant in enumerate(variants):
        weight = variant.get("weight", 1.0)
        if (
            not isinstance(weight, int | float)
            or isinstance(weight, bool)
            or not math.isfinite(weight)
        ):
            _add(errors, f"variants[{i}].weight", _("Weight must be a finite number."))
        elif weight <= 0:
            _add(
                errors,
                f"variants[{i}].weight",
                _('Variant "%(key)s" has weight %(weight)s; weights must be positive.')
                % {"key": variant.get("key"), "weight": weight},
            )
        elif weight > MAX_WEIGHT:
            _add(
                errors,
                f"variants[{i}].weight",
                _('Variant "%(key)s" has weight %(weight)s; weights are at most %(max)s.')
                % {"key": variant.get("key"), "weight": weight, "max": MAX_WEIGHT_TEXT},
            )
    controls = [v.get("key") for v in variants if v.get("is_control")]
    if len(controls) > 1:
        _add(
            errors,
            "variants",
            _("Exactly one variant must be the control; %(count)s are marked: %(keys)s.")
            % {"count": len(controls), "keys": ", ".join(str(c) for c in controls)},
        )


def check_metric_roles(metrics: list[dict[str, Any]], errors: Errors) -> None:
    primaries = [m.get("metric") for m in metrics if m.get("role") == "primary"]
    if len(primaries) > 1:
        _add(
            errors,
            "metrics",
            _(
                "An experiment has exactly one primary metric; "
                "%(count)s are marked primary: %(keys)s."
            )
            % {"count": len(primaries), "keys": ", ".join(map(str, primaries))},
        )
    seen = Counter(m.get("metric") for m in metrics)
    for key, count in seen.items():
        if count > 1:
            _add(
                errors,
                "metrics",
                _('Metric "%(key)s" is linked %(count)s times.') % {"key": key, "count": count},
            )


def check_targeting(targeting: Any, errors: Errors) -> None:
    if targeting is None:
        return
    for problem in validate_condition(targeting):
        _add(errors, "targeting", problem.translated(_))


SEGMENT_CORRECTIONS = ("none", "holm", "bh")


def check_segment_plan(data: dict[str, Any], errors: Errors) -> None:
    """The plan's history segments (``experiments.history_segments``) and segment
    correction, when given, under ``analysis_plan.<field>``."""
    plan = data.get("analysis_plan")
    if not isinstance(plan, dict):
        return
    if "history_segments" in plan:
        check_history_segments(
            plan["history_segments"], errors, field="analysis_plan.history_segments"
        )
    if "segment_correction" in plan and plan["segment_correction"] not in SEGMENT_CORRECTIONS:
        _add(
            errors,
            "analysis_plan.segment_correction",
            _('Unknown correction "%(value)s"; use one of: %(allowed)s.')
            % {"value": plan["segment_correction"], "allowed": ", ".join(SEGMENT_CORRECTIONS)},
        )


def check_ready_to_start(
    *, variants: list[dict[str, Any]], metrics: list[dict[str, Any]], targeting: Any
) -> Errors:
    """Everything that must hold before an experiment can start."""
    errors: Errors = {}
    check_variants(variants, errors)
    check_metric_roles(metrics, errors)
    check_targeting(targeting, errors)
    if len(variants) < 2:
        _add(
            errors,
            "variants",
            _("An experiment needs at least two variants; it has %(count)s.")
            % {"count": len(variants)},
        )
    if not any(v.get("is_control") for v in variants):
        _add(errors, "variants", _("Exactly one variant must be the control; none is marked."))
    if not any(m.get("role") == "primary" for m in metrics):
        _add(errors, "metrics", _("An experiment needs one primary metric; none is set."))
    return errors
