"""The experiment form's history segments and segment correction (``experiments.history_segments``):
one checkbox per kind, the look-back days, the value event and field, the new-or-returning
attribute, and the correction of segment p-values; read from an experiment, turned into the
analysis plan's input, and the service's errors put next to their fields."""

from __future__ import annotations

from typing import Any

from console.form_errors import Errors
from experiments.history_segments import DEFAULT_DAYS, KINDS
from experiments.models import Experiment

# Text fields and checkboxes of the plan step (form names).
HISTORY_TEXT = (
    "history_days",
    "history_value_event",
    "history_value_field",
    "history_new_attribute",
    "segment_correction",
)
HISTORY_CHECKS = tuple(f"history_{kind}" for kind in KINDS)
# The names their errors are shown under (the kinds' errors under ``history_kinds``).
HISTORY_FIELDS = (*HISTORY_TEXT, "history_kinds")
# The configuration's keys -> the form's text fields.
_TEXT_KEYS = {
    "days": "history_days",
    "value_event": "history_value_event",
    "value_field": "history_value_field",
    "new_attribute": "history_new_attribute",
}


def history_values(experiment: Experiment | None) -> tuple[dict[str, str], dict[str, bool]]:
    """The fields' values and checkboxes as the form opens."""
    config = (experiment.history_segments if experiment is not None else None) or {}
    values = {name: "" for name in HISTORY_TEXT}
    values["history_days"] = str(config.get("days", DEFAULT_DAYS))
    for key, name in _TEXT_KEYS.items():
        if key != "days" and config.get(key):
            values[name] = str(config[key])
    values["segment_correction"] = experiment.segment_correction if experiment else "none"
    kinds = config.get("kinds", [])
    checks = {f"history_{kind}": kind in kinds for kind in KINDS}
    return values, checks


def history_plan(values: dict[str, str], checks: dict[str, bool]) -> dict[str, Any]:
    """The analysis plan's ``history_segments`` and ``segment_correction`` from the form (the
    service checks them; a days value that is not a whole number is passed as text so its
    message is the service's)."""
    kinds = [kind for kind in KINDS if checks.get(f"history_{kind}")]
    plan: dict[str, Any] = {"segment_correction": values.get("segment_correction") or "none"}
    if not kinds:
        plan["history_segments"] = {}
        return plan
    days_text = (values.get("history_days") or "").strip()
    days: Any = int(days_text) if days_text.isdigit() else (days_text or DEFAULT_DAYS)
    config: dict[str, Any] = {"kinds": kinds, "days": days}
    for key, name in _TEXT_KEYS.items():
        if key != "days" and values.get(name):
            config[key] = values[name]
    plan["history_segments"] = config
    return plan


def history_field_errors(errors: Errors) -> Errors:
    """``history_segments.<key>`` errors under the form's field names."""
    out: Errors = {}
    for key, messages in errors.items():
        if key.startswith("history_segments"):
            sub = key.removeprefix("history_segments").lstrip(".")
            name = _TEXT_KEYS.get(sub, "history_kinds")
            out.setdefault(name, []).extend(messages)
        else:
            out.setdefault(key, []).extend(messages)
    return out
