"""Checking the guided form: its state turned into the dict the services take (the API's
``ExperimentInput`` shape), checked by the API's own serializer and the services' own rules,
with every error keyed like the API's (``variants[1].weight``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from console.form_errors import Errors, flatten
from console.labels import METRIC_TYPE_LABELS, label
from core.json_input import JsonTooDeep, json_loads
from core.keys import KEY_EXAMPLE, key_from_name
from experiments.api.serializers import ExperimentInput
from experiments.models import Experiment, ExperimentStatus, Metric
from experiments.services.experiments import owner_lookup
from experiments.services.validation import (
    check_metric_roles,
    check_segment_plan,
    check_targeting,
    check_variants,
)

from .forms import LOCKED_WHEN_STARTED, PLAN_CHECKBOXES, FormState
from .forms import number_or_none as _number
from .history_fields import history_plan


def _parse_percent(state: FormState, name: str, raw: dict[str, Any], errors: Errors) -> None:
    text = state.values.get(name, "")
    if text == "":
        return
    number = _number(text)
    if number is None:
        errors.setdefault(name, []).append(_("Enter a number (a percentage)."))
    else:
        raw[name] = number / 100


def to_input(state: FormState, experiment: Experiment | None) -> tuple[dict[str, Any], Errors]:
    """The raw API-shaped dict for ``ExperimentInput``, and errors found while reading it."""
    errors: Errors = {}
    v = state.values
    raw: dict[str, Any] = {"key": v.get("key", ""), "name": v.get("name", "")}
    for name in ("hypothesis", "kind", "unit_attribute"):
        if v.get(name):
            raw[name] = v[name]
    raw["expected_effect"] = v.get("expected_effect", "")
    raw["layer"] = v.get("layer") or None
    _parse_percent(state, "coverage", raw, errors)
    _parse_percent(state, "layer_share", raw, errors)
    try:
        raw["targeting"] = json_loads(v.get("targeting") or "{}")
    except JsonTooDeep as exc:
        errors["targeting"] = [str(exc)]
    except ValueError as exc:
        errors["targeting"] = [_("Not valid JSON: %(error)s.") % {"error": exc}]
    for name in ("scheduled_start_at", "scheduled_stop_at"):
        raw[name] = v.get(name) or None
    for name in ("planned_sample_size", "planned_duration_days"):
        raw[name] = v.get(name) or None
    variants = []
    for i, row in enumerate(state.variants):
        weight = _number(row.weight)
        item: dict[str, Any] = {"key": row.key, "name": row.name, "is_control": row.is_control,
                                "weight": row.weight if weight is None else weight}  # fmt: skip
        try:
            item["payload"] = json_loads(row.payload or "{}")
        except JsonTooDeep as exc:
            errors[f"variants[{i}].payload"] = [str(exc)]
        except ValueError as exc:
            errors[f"variants[{i}].payload"] = [_("Not valid JSON: %(error)s.") % {"error": exc}]
        variants.append(item)
    raw["variants"] = variants
    raw["metrics"] = []
    for i, (key, role) in enumerate(state.metric_roles.items()):
        link: dict[str, Any] = {"metric": key, "role": role}
        harm = state.metric_harms.get(key, "")
        if role == "guardrail" and harm:
            if (value := _number(harm)) is None:
                errors[f"metrics[{i}].harm_threshold"] = [_("Enter a number (a percentage).")]
            else:
                link["harm_threshold"] = value / 100
        raw["metrics"].append(link)
    plan: dict[str, Any] = {n: v[n] for n in ("alpha", "method", "correction") if v.get(n)}
    plan.update({name: state.checks.get(name, False) for name in PLAN_CHECKBOXES})
    plan.update(history_plan(state.values, state.checks))
    plan["mde"] = None
    if v.get("mde"):
        mde = _number(v["mde"])
        if mde is None:
            errors["mde"] = [_("Enter a number (a percentage).")]
        else:
            plan["mde"] = mde / 100
    raw["analysis_plan"] = plan
    if experiment is not None and experiment.status != ExperimentStatus.DRAFT:
        _keep_locked(raw, experiment)
    return raw, errors


def _keep_locked(raw: dict[str, Any], experiment: Experiment) -> None:
    """A started experiment keeps its randomization: locked fields are sent as stored."""
    for name in LOCKED_WHEN_STARTED:
        raw.pop(name, None)
    raw["key"] = experiment.key
    names = {item["key"]: item.get("name") for item in raw["variants"]}
    raw["variants"] = [
        {"key": v.key, "name": names.get(v.key) or v.name, "weight": v.weight,
         "is_control": v.is_control, "payload": v.payload, "description": v.description}
        for v in experiment.variants.all()
    ]  # fmt: skip


def validated(
    state: FormState, experiment: Experiment | None
) -> tuple[dict[str, Any] | None, Errors]:
    """The service input and every error the API's serializer and the service rules find."""
    raw, errors = to_input(state, experiment)
    serializer = ExperimentInput(data=raw, context={"form_text": True})
    if not serializer.is_valid():
        for key, messages in flatten(serializer.errors).items():
            if key not in errors:
                errors[key] = messages
    data = dict(serializer.validated_data) if not errors else None
    checked = data or raw
    rule_errors: Errors = {}
    owner = state.values.get("owner", "")
    if owner:
        owner_lookup(owner, rule_errors)
        if data is not None:
            data["owner"] = owner
    if isinstance(checked.get("variants"), list):
        check_variants([v for v in checked["variants"] if isinstance(v, dict)], rule_errors)
    check_metric_roles(checked.get("metrics", []), rule_errors)
    check_segment_plan(checked, rule_errors)
    if isinstance(checked.get("targeting"), dict) and "targeting" not in errors:
        check_targeting(checked["targeting"], rule_errors)
    if not str(raw.get("key") or "").strip():
        errors["key"] = [missing_key_message(state.values.get("name", ""))]
    key = checked.get("key")
    renamed = experiment is None or experiment.key != key
    if key and renamed and Experiment.objects.filter(key=key).exists():
        rule_errors.setdefault("key", []).append(
            _('An experiment with key "%(key)s" exists.') % {"key": key}
        )
    for name, messages in rule_errors.items():
        if name not in errors:
            errors[name] = messages
    return (data if not errors else None), errors


def missing_key_message(name: str) -> str:
    """What to type in an empty key field: a name like "测试 定价" gives no key to derive."""
    if name.strip() and not key_from_name(name):
        return _(
            "This name gives no key, because a key uses Latin letters, digits and dashes. "
            "Type one, e.g. %(example)s."
        ) % {"example": KEY_EXAMPLE}
    return _("Type a key: lowercase letters, digits and dashes, e.g. %(example)s.") % {
        "example": KEY_EXAMPLE
    }


def metric_choices(state: FormState, query: str, limit: int = 50) -> list[Metric]:
    """Library metrics matching the search, with every metric the experiment uses."""
    metrics = list(Metric.objects.order_by("key"))
    q = query.lower().strip()
    chosen = [m for m in metrics if m.key in state.metric_roles]
    found = [
        m for m in metrics
        if m.key not in state.metric_roles
        and (not q or q in m.key.lower() or q in m.name.lower() or q in m.event.lower())
    ]  # fmt: skip
    shown = chosen + found[:limit]
    for metric in shown:
        metric.form_role = state.metric_roles.get(metric.key, "")
        metric.form_harm = state.metric_harms.get(metric.key, "")
        metric.form_type = label(METRIC_TYPE_LABELS, metric.type)
    return shown
