"""The guided experiment form's state: read from a POST or from an experiment, with errors put
next to their fields (``form_checks`` turns it into the services' input and checks it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from console.form_errors import Errors
from core.keys import key_from_name
from experiments.models import Experiment

from .history_fields import (
    HISTORY_CHECKS,
    HISTORY_FIELDS,
    HISTORY_TEXT,
    history_field_errors,
    history_values,
)
from .targeting_builder import Group, Row, build_condition, groups_from_condition

STEPS = ("basics", "variants", "targeting", "metrics", "plan")
STEP_OF_FIELD = {
    "variants": "variants",
    "targeting": "targeting",
    "coverage": "targeting",
    "unit_attribute": "targeting",
    "layer": "targeting",
    "layer_share": "targeting",
    "metrics": "metrics",
    "analysis_plan": "plan",
    "scheduled_start_at": "plan",
    "scheduled_stop_at": "plan",
    "planned_sample_size": "plan",
    "planned_duration_days": "plan",
    **dict.fromkeys(HISTORY_FIELDS, "plan"),
}
PLAN_TEXT = ("alpha", "method", "correction", "mde")
TEXT_FIELDS = (
    "key",
    "name",
    "owner",
    "hypothesis",
    "expected_effect",
    "kind",
    "coverage",
    "unit_attribute",
    "layer",
    "layer_share",
    "targeting",
    "scheduled_start_at",
    "scheduled_stop_at",
    "planned_sample_size",
    "planned_duration_days",
    *PLAN_TEXT,
    "metric_query",
    "test_attributes",
    *HISTORY_TEXT,
)
PLAN_CHECKBOXES = ("cuped", "guardrail_auto_pause")
CHECKBOXES = (*PLAN_CHECKBOXES, *HISTORY_CHECKS)
LOCKED_WHEN_STARTED = ("key", "unit_attribute", "layer")


def step_of(error_key: str) -> str:
    """Which step of the form shows the error with this key."""
    head = re.split(r"[.\[]", error_key, maxsplit=1)[0]
    return STEP_OF_FIELD.get(head, "basics")


@dataclass
class VariantRow:
    key: str = ""
    name: str = ""
    weight: str = "1"
    payload: str = "{}"
    is_control: bool = False
    errors: Errors = field(default_factory=dict)
    share: float | None = None


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    variants: list[VariantRow] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    metric_roles: dict[str, str] = field(default_factory=dict)
    metric_harms: dict[str, str] = field(default_factory=dict)
    errors: Errors = field(default_factory=dict)

    def step_errors(self) -> dict[str, int]:
        counts = dict.fromkeys(STEPS, 0)
        for key, messages in self.errors.items():
            counts[step_of(key)] += len(messages)
        for row in self.variants:
            counts["variants"] += sum(len(m) for m in row.errors.values())
        return counts

    def set_errors(self, errors: Errors) -> None:
        """Put each error next to its field: ``variants[i].x`` on row i, the rest by name."""
        self.errors = {}
        for row in self.variants:
            row.errors = {}
        for key, messages in errors.items():
            found = re.fullmatch(r"variants\[(\d+)\]\.(\w+)", key)
            if found and int(found[1]) < len(self.variants):
                row = self.variants[int(found[1])]
                row.errors.setdefault(found[2], []).extend(messages)
            elif link := re.fullmatch(r"metrics\[(\d+)\]\.\w+", key):
                keys = list(self.metric_roles)
                where = keys[int(link[1])] if int(link[1]) < len(keys) else ""
                self.errors.setdefault("metrics", []).extend(f"{where}: {m}" for m in messages)
            else:
                name = key.removeprefix("analysis_plan.")
                self.errors.setdefault(name, []).extend(messages)
        self.errors = history_field_errors(self.errors)
        self.update_shares()

    def update_shares(self) -> None:
        weights = [number_or_none(r.weight) for r in self.variants]
        total = sum(w for w in weights if w is not None and w > 0)
        for row, weight in zip(self.variants, weights, strict=True):
            row.share = weight / total if total and weight is not None and weight > 0 else None


def number_or_none(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:g}"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M") if value else ""


def state_from_experiment(experiment: Experiment | None) -> FormState:
    """The form as it opens: a new draft with a control and a treatment, or the experiment's."""
    if experiment is None:
        new = FormState(
            values={"kind": "other", "coverage": "100", "unit_attribute": "user_id",
                    "layer_share": "100", "targeting": "{}", "alpha": "0.05",
                    "method": "frequentist", "correction": "none", "test_attributes": "{}"},
            variants=[VariantRow("control", "Control", "1", "{}", True),
                      VariantRow("treatment", "Treatment", "1", "{}", False)],
            groups=[Group()],
        )  # fmt: skip
        history, history_checks = history_values(None)
        new.values |= history
        new.checks |= history_checks
        new.update_shares()
        return new
    values = {
        "key": experiment.key,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "expected_effect": experiment.expected_effect,
        "kind": experiment.kind,
        "owner": experiment.owner.get_username() if experiment.owner_id else "",
        "coverage": _percent(experiment.coverage),
        "unit_attribute": experiment.unit_attribute,
        "layer": experiment.layer.key if experiment.layer_id else "",
        "layer_share": _percent(experiment.layer_share),
        "targeting": json.dumps(experiment.targeting or {}, indent=2, ensure_ascii=False),
        "scheduled_start_at": _when(experiment.scheduled_start_at),
        "scheduled_stop_at": _when(experiment.scheduled_stop_at),
        "planned_sample_size": str(experiment.planned_sample_size or ""),
        "planned_duration_days": str(experiment.planned_duration_days or ""),
        "alpha": f"{experiment.alpha:g}",
        "method": experiment.method,
        "correction": experiment.correction,
        "mde": _percent(experiment.mde),
        "test_attributes": "{}",
    }
    state = FormState(
        values=values,
        checks={"cuped": experiment.cuped, "guardrail_auto_pause": experiment.guardrail_auto_pause},
        variants=[
            VariantRow(
                v.key,
                v.name,
                f"{v.weight:g}",
                json.dumps(v.payload, ensure_ascii=False),
                v.is_control,
            )
            for v in experiment.variants.all()
        ],  # fmt: skip
        groups=groups_from_condition(experiment.targeting) or [],
        metric_roles={link.metric.key: link.role for link in experiment.metric_links.all()},
        metric_harms={
            link.metric.key: f"{link.harm_threshold * 100:g}"
            for link in experiment.metric_links.all()
            if link.harm_threshold is not None
        },
    )
    history, history_checks = history_values(experiment)
    state.values |= history
    state.checks |= history_checks
    state.update_shares()
    return state


def state_from_post(post: QueryDict) -> FormState:
    """The form as the person left it (nothing saved yet)."""
    values = {name: post.get(name, "").strip() for name in TEXT_FIELDS}
    values["hypothesis"] = post.get("hypothesis", "")
    values["targeting"] = post.get("targeting", "")
    checks = {name: post.get(name) == "on" for name in CHECKBOXES}
    indexes = sorted({int(m[1]) for k in post if (m := re.fullmatch(r"variants-(\d+)-key", k))})
    control = post.get("control", "")
    variants = [
        VariantRow(
            key=post.get(f"variants-{i}-key", "").strip(),
            name=post.get(f"variants-{i}-name", "").strip(),
            weight=post.get(f"variants-{i}-weight", "").strip(),
            payload=post.get(f"variants-{i}-payload", "").strip() or "{}",
            is_control=control == str(i),
        )
        for i in indexes
    ]
    groups = []
    group_ids = sorted({int(m[1]) for k in post if (m := re.fullmatch(r"tg-(\d+)-mode", k))})
    for g in group_ids:
        row_ids = sorted({int(m[1]) for k in post if (m := re.fullmatch(rf"tg-{g}-(\d+)-attr", k))})
        rows = [
            Row(
                post.get(f"tg-{g}-{r}-attr", "").strip(),
                post.get(f"tg-{g}-{r}-op", "$eq"),
                post.get(f"tg-{g}-{r}-value", ""),
            )
            for r in row_ids
        ]
        mode = post.get(f"tg-{g}-mode") if post.get(f"tg-{g}-mode") in ("and", "or") else "and"
        groups.append(Group(mode=mode, rows=rows or [Row()]))
    roles = {
        key.removeprefix("metric-role-"): value
        for key, value in post.items()
        if key.startswith("metric-role-") and value in ("primary", "secondary", "guardrail")
    }
    harms = {
        key.removeprefix("metric-harm-"): value.strip()
        for key, value in post.items()
        if key.startswith("metric-harm-") and value.strip()
    }
    state = FormState(values=values, checks=checks, variants=variants, groups=groups,
                      metric_roles=roles, metric_harms=harms)  # fmt: skip
    state.update_shares()
    return state


def apply_builder(state: FormState) -> None:
    """Write the builder's condition into the JSON box."""
    condition = build_condition(state.groups)
    state.values["targeting"] = json.dumps(condition, indent=2, ensure_ascii=False)


def derive_key(state: FormState) -> None:
    """A new experiment's key follows its name until the person types one (a name with no
    Latin letters or digits gives none: ``form_checks`` then says what to type)."""
    if not state.values.get("key") and state.values.get("name"):
        state.values["key"] = key_from_name(state.values["name"])
