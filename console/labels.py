"""Translated labels for the stored codes the experiment pages show (status, kind, role, ...).

The models' choices carry English labels for the API and the admin; these pages show the
same codes in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from analysis.words.segments import HISTORY_KIND_LABELS  # noqa: F401 (one home, used here)

STATUS_LABELS: dict[str, Promise] = {
    "draft": _("Draft"),
    "running": _("Running"),
    "paused": _("Paused"),
    "stopped": _("Stopped"),
    "concluded": _("Concluded"),
    "archived": _("Archived"),
}
KIND_LABELS: dict[str, Promise] = {
    "pricing": _("Pricing"),
    "onboarding": _("Onboarding"),
    "promotion": _("Promotion"),
    "other": _("Other"),
}
ROLE_LABELS: dict[str, Promise] = {
    "primary": _("Primary"),
    "secondary": _("Secondary"),
    "guardrail": _("Guardrail"),
}
DECISION_LABELS: dict[str, Promise] = {
    "ship": _("Ship a variant"),
    "keep_control": _("Keep control"),
    "inconclusive": _("Inconclusive"),
}
METHOD_LABELS: dict[str, Promise] = {
    "frequentist": _("Frequentist"),
    "sequential": _("Sequential"),
    "bayesian": _("Bayesian"),
}
CORRECTION_LABELS: dict[str, Promise] = {
    "none": _("None"),
    "holm": _("Holm"),
    "bh": _("Benjamini-Hochberg"),
}
ACTION_LABELS: dict[str, Promise] = {
    "start": _("Start"),
    "pause": _("Pause"),
    "resume": _("Resume"),
    "stop": _("Stop"),
    "new-phase": _("New phase"),
    "new_phase": _("New phase"),
    "conclude": _("Conclude"),
    "archive": _("Archive"),
    "create": _("Created the experiment"),
    "update": _("Edited"),
    "plan_change": _("Plan changed"),
    "learnings": _("Learnings written"),
    "override_set": _("QA override set"),
    "override_delete": _("QA override removed"),
    "duplicate": _("Duplicated"),
}
REASON_LABELS: dict[str, Promise] = {
    "hashed": _("in the experiment (hashed)"),
    "forced": _("forced by a QA override"),
    "not_targeted": _("not targeted"),
    "outside_coverage": _("outside coverage"),
    "outside_layer": _("outside the layer slice"),
    "not_running": _("experiment not running"),
    "paused": _("experiment paused"),
    "missing_unit_attribute": _("unit attribute missing"),
    "unknown_experiment": _("unknown experiment"),
}
OUTCOME_LABELS: dict[str, Promise] = {
    "better": _("better"),
    "worse": _("worse"),
    "not_significant": _("not significant"),
    "not_enough_data": _("not enough data"),
}

# The fields of an experiment as its audit entries store them (``experiment_state``, QA
# overrides), named as the experiment form and page name them.
AUDIT_FIELD_LABELS: dict[str, Promise] = {
    "key": _("Key"),
    "name": _("Name"),
    "hypothesis": _("Hypothesis"),
    "expected_effect": _("Expected effect"),
    "kind": _("Kind"),
    "owner": _("Owner"),
    "status": _("Status"),
    "salt": _("Salt"),
    "phase": _("Phase"),
    "coverage": _("Coverage"),
    "unit_attribute": _("Randomization unit"),
    "targeting": _("Targeting"),
    "data_source": _("Data source"),
    "layer": _("Layer"),
    "layer_range": _("Slice of the layer"),
    "variants": _("Variants"),
    "weight": _("Weight"),
    "is_control": _("Control"),
    "payload": _("Payload"),
    "metrics": _("Metrics"),
    "metric": _("Metric"),
    "role": _("Role"),
    "harm_threshold": _("Harm threshold"),
    "analysis_plan": _("Analysis plan"),
    "alpha": _("Significance level (alpha)"),
    "method": _("Method"),
    "correction": _("Multiple-testing correction"),
    "cuped": _("CUPED"),
    "mde": _("Minimum detectable effect"),
    "guardrail_auto_pause": _("Guardrail circuit breaker"),
    "history_segments": _("Segments from each unit's history before exposure"),
    "segment_correction": _("Correction of segment p-values"),
    "kinds": _("Segment kinds"),
    "value_event": _("Spend event"),
    "decision": _("Decision"),
    "winner": _("Winner"),
    "learnings": _("Learnings"),
    "warnings": _("Warnings"),
    "unit_id": _("Unit id"),
    "variant": _("Variant"),
    "note": _("Note"),
}


METRIC_TYPE_LABELS: dict[str, Promise] = {
    "conversion": _("Conversion"),
    "mean": _("Mean"),
    "ratio": _("Ratio"),
    "retention": _("Retention"),
    "count_threshold": _("Count threshold"),
    "conditional_mean": _("Conditional mean"),
    "distinct_days": _("Distinct active days"),
    "retention_curve": _("Retention curve"),
    "value_curve": _("Value to date (LTV curve)"),
}
API_KEY_ROLE_LABELS: dict[str, Promise] = {
    "admin": _("Admin"),
    "editor": _("Editor"),
    "viewer": _("Viewer"),
    "app": _("App"),
    "client": _("Client"),
}
# The targeting builder's operators (console/experiment_form/targeting_builder.py).
OPERATOR_LABELS: dict[str, Promise | str] = {
    "$eq": _("is"),
    "$ne": _("is not"),
    "$in": _("is one of"),
    "$nin": _("is none of"),
    "$gt": ">",
    "$gte": "≥",
    "$lt": "<",
    "$lte": "≤",
    "$vgte": _("version ≥"),
    "$vlt": _("version <"),
    "$regex": _("matches pattern"),
    "$exists": _("is set"),
}


def choices(table: Mapping[str, Promise | str], codes: Iterable[str]) -> list[tuple[str, str]]:
    """``(code, translated label)`` pairs for a select's options, in the order of ``codes``."""
    return [(code, label(table, code)) for code in codes]


def label(table: Mapping[str, Promise | str], code: str | None) -> str:
    """The translated label of ``code``, or the code itself when it has none."""
    if not code:
        return ""
    return str(table.get(code, code))
