"""Rules for an experiment's definition, as pure checks returning field-keyed messages."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from experiments.targeting import validate_condition

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def check_variants(variants: list[dict[str, Any]], errors: Errors) -> None:
    """Checks that hold for any saved definition: unique keys, positive weights, <= 1 control."""
    keys = Counter(v.get("key") for v in variants)
    for key, count in keys.items():
        if count > 1:
            _add(
                errors,
                "variants",
                f'Variant key "{key}" is used {count} times; keys must be unique.',
            )
    for i, variant in enumerate(variants):
        weight = variant.get("weight", 1.0)
        if (
            not isinstance(weight, int | float)
            or isinstance(weight, bool)
            or not math.isfinite(weight)
        ):
            _add(errors, f"variants[{i}].weight", "Weight must be a finite number.")
        elif weight <= 0:
            _add(
                errors,
                f"variants[{i}].weight",
                f'Variant "{variant.get("key")}" has weight {weight}; weights must be positive.',
            )
    controls = [v.get("key") for v in variants if v.get("is_control")]
    if len(controls) > 1:
        _add(
            errors,
            "variants",
            f"Exactly one variant must be the control; {len(controls)} are marked: "
            + ", ".join(str(c) for c in controls)
            + ".",
        )


def check_metric_roles(metrics: list[dict[str, Any]], errors: Errors) -> None:
    primaries = [m.get("metric") for m in metrics if m.get("role") == "primary"]
    if len(primaries) > 1:
        _add(
            errors,
            "metrics",
            "An experiment has exactly one primary metric; "
            f"{len(primaries)} are marked primary: {', '.join(map(str, primaries))}.",
        )
    seen = Counter(m.get("metric") for m in metrics)
    for key, count in seen.items():
        if count > 1:
            _add(errors, "metrics", f'Metric "{key}" is linked {count} times.')


def check_targeting(targeting: Any, errors: Errors) -> None:
    if targeting is None:
        return
    for message in validate_condition(targeting):
        _add(errors, "targeting", message)


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
            f"An experiment needs at least two variants; it has {len(variants)}.",
        )
    if not any(v.get("is_control") for v in variants):
        _add(errors, "variants", "Exactly one variant must be the control; none is marked.")
    if not any(m.get("role") == "primary" for m in metrics):
        _add(errors, "metrics", "An experiment needs one primary metric; none is set.")
    return errors
