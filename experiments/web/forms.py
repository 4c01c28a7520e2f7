"""The guided experiment form's state: read from a POST or an experiment, turned into the dict
the services take (the API's ``ExperimentInput`` shape), checked by the API's own serializer
and the services' own rules, with every error keyed like the API's (``variants[1].weight``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.text import slugify
from django.utils.translation import gettext as _

from experiments.api.serializers import ExperimentInput
from experiments.models import Experiment, ExperimentStatus, Metric
from experiments.services.validation import check_metric_roles, check_targeting, check_variants
from experiments.web.targeting_builder import Group, Row, build_condition, groups_from_condition

Errors = dict[str, list[str]]
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
}
PLAN_TEXT = ("alpha", "method", "correction", "mde")
TEXT_FIELDS = (
    "key",
    "name",
    "hypothesis",
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
)
CHECKBOXES = ("cuped", "guardrail_auto_pause")
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
            else:
                name = key.removeprefix("analysis_plan.")
                self.errors.setdefault(name, []).extend(messages)
        self.update_shares()

    def update_shares(self) -> None:
        weights = [_number(r.weight) for r in self.variants]
        total = sum(w for w in weights if w is not None and w > 0)
        for row, weight in zip(self.variants, weights, strict=True):
            row.share = weight / total if total and weight is not None and weight > 0 else None


def _number(text: str) -> float | None:
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
        new.update_shares()
        return new
    values = {
        "key": experiment.key,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "kind": experiment.kind,
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
    )
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
    state = FormState(values=values, checks=checks, variants=variants, groups=groups,
                      metric_roles=roles)  # fmt: skip
    state.update_shares()
    return state


def apply_builder(state: FormState) -> None:
    """Write the builder's condition into the JSON box."""
    condition = build_condition(state.groups)
    state.values["targeting"] = json.dumps(condition, indent=2, ensure_ascii=False)


def derive_key(state: FormState) -> None:
    """A new experiment's key follows its name until the person types one."""
    if not state.values.get("key") and state.values.get("name"):
        state.values["key"] = slugify(state.values["name"])[:64]


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
    raw["layer"] = v.get("layer") or None
    _parse_percent(state, "coverage", raw, errors)
    _parse_percent(state, "layer_share", raw, errors)
    try:
        raw["targeting"] = json.loads(v.get("targeting") or "{}")
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
            item["payload"] = json.loads(row.payload or "{}")
        except ValueError as exc:
            errors[f"variants[{i}].payload"] = [_("Not valid JSON: %(error)s.") % {"error": exc}]
        variants.append(item)
    raw["variants"] = variants
    raw["metrics"] = [{"metric": key, "role": role} for key, role in state.metric_roles.items()]
    plan: dict[str, Any] = {n: v[n] for n in ("alpha", "method", "correction") if v.get(n)}
    plan.update({name: state.checks.get(name, False) for name in CHECKBOXES})
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


def flatten(detail: Any, prefix: str = "") -> Errors:
    """DRF's nested serializer errors as ``{"variants[1].weight": [...], ...}``."""
    out: Errors = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list) and detail and all(isinstance(d, dict) for d in detail):
        for i, value in enumerate(detail):
            for k, v in flatten(value, f"{prefix}[{i}]").items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        out[prefix or "non_field_errors"] = [str(d) for d in detail]
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def validated(
    state: FormState, experiment: Experiment | None
) -> tuple[dict[str, Any] | None, Errors]:
    """The service input and every error the API's serializer and the service rules find."""
    raw, errors = to_input(state, experiment)
    serializer = ExperimentInput(data=raw)
    if not serializer.is_valid():
        for key, messages in flatten(serializer.errors).items():
            if key not in errors:
                errors[key] = messages
    data = serializer.validated_data if not errors else None
    checked = data or raw
    rule_errors: Errors = {}
    if isinstance(checked.get("variants"), list):
        check_variants([v for v in checked["variants"] if isinstance(v, dict)], rule_errors)
    check_metric_roles(checked.get("metrics", []), rule_errors)
    if isinstance(checked.get("targeting"), dict) and "targeting" not in errors:
        check_targeting(checked["targeting"], rule_errors)
    key = checked.get("key")
    renamed = experiment is None or experiment.key != key
    if key and renamed and Experiment.objects.filter(key=key).exists():
        rule_errors.setdefault("key", []).append(f'An experiment with key "{key}" exists.')
    for name, messages in rule_errors.items():
        if name not in errors:
            errors[name] = messages
    return (data if not errors else None), errors


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
    return chosen + found[:limit]
