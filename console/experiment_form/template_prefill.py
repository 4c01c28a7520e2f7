""" "Start from a template" on the new-experiment page: the template choice, and the guided form
opened with a template's design (``experiments.templates_catalogue``). Links carry the choice
(``/experiments/new/?template=pricing``), so it works without JavaScript.
"""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse

from experiments.templates_catalogue import TEMPLATES, template_design, template_get

from . import forms
from .targeting_builder import Group, groups_from_condition


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:g}"


def template_choices(chosen: str | None) -> list[dict[str, Any]]:
    """Each template with its link, and whether it is the one the form opened with."""
    base = reverse("web:experiment-create")
    return [
        {
            "key": t.key,
            "title": t.title,
            "summary": t.summary,
            "url": f"{base}?template={t.key}",
            "chosen": t.key == chosen,
        }
        for t in TEMPLATES
    ]


def state_from_template(key: str | None) -> tuple[forms.FormState, dict[str, Any]]:
    """The new-experiment form, with the design of template ``key`` when there is one, and the
    template choice's context: the choices, the one chosen, and the metrics left out because
    this installation's library does not have them."""
    state = forms.state_from_experiment(None)
    template = template_get(key)
    context: dict[str, Any] = {
        "template_choices": template_choices(template.key if template else None),
        "template_chosen": template,
        "template_unknown": bool(key) and template is None,
        "template_missing_metrics": (),
    }
    if template is None:
        return state, context
    design = template_design(template)
    data = design.data
    plan = data["analysis_plan"]
    state.values.update(
        {
            "key": data["key"],
            "name": data["name"],
            "kind": data["kind"],
            "hypothesis": data["hypothesis"],
            "expected_effect": data["expected_effect"],
            "targeting": json.dumps(data["targeting"], indent=2, ensure_ascii=False),
            "alpha": f"{plan['alpha']:g}",
            "method": plan["method"],
            "correction": plan["correction"],
            "mde": _percent(plan.get("mde")),
            "planned_duration_days": str(data["planned_duration_days"] or ""),
        }
    )
    state.checks = {name: bool(plan.get(name)) for name in forms.CHECKBOXES}
    state.variants = [
        forms.VariantRow(
            key=v["key"],
            name=v["name"],
            weight=f"{v['weight']:g}",
            payload=json.dumps(v["payload"], ensure_ascii=False),
            is_control=v["is_control"],
        )
        for v in data["variants"]
    ]
    state.groups = groups_from_condition(data["targeting"]) or [Group()]
    state.metric_roles = {link["metric"]: link["role"] for link in data["metrics"]}
    state.metric_harms = {
        link["metric"]: _percent(link["harm_threshold"])
        for link in data["metrics"]
        if link.get("harm_threshold") is not None
    }
    state.update_shares()
    context["template_missing_metrics"] = design.missing_metrics
    return state, context
