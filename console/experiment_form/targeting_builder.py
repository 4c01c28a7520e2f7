"""The targeting condition builder: rows of attribute / operator / value in AND/OR groups.

Pure functions, no Django. ``build_condition`` turns the rows into the same GrowthBook-style
JSON the API stores; ``rows_from_condition`` reads a stored condition back into rows when it
has the builder's shape (otherwise the JSON is edited directly); ``explain`` says whether some
attributes are targeted and why, using the targeting engine's own evaluator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from experiments.targeting import eval_condition

# The operators offered in the builder, in the order shown (the targeting engine supports them
# all); their words, in the reader's language, are ``console.labels.OPERATOR_LABELS``.
OPERATORS: tuple[str, ...] = (
    "$eq",
    "$ne",
    "$in",
    "$nin",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$vgte",
    "$vlt",
    "$regex",
    "$exists",
)
LIST_OPERATORS = ("$in", "$nin")
MODES = ("and", "or")


@dataclass
class Row:
    attribute: str = ""
    operator: str = "$eq"
    value: str = ""


@dataclass
class Group:
    mode: str = "and"
    rows: list[Row] = field(default_factory=lambda: [Row()])


def parse_value(text: str, operator: str) -> Any:
    """The JSON value a row's text stands for: lists split on commas, numbers stay numbers."""
    text = text.strip()
    if operator in LIST_OPERATORS:
        return [_scalar(part) for part in text.split(",") if part.strip()]
    if operator == "$exists":
        return text.lower() not in ("false", "no", "0")
    if operator in ("$regex", "$vgte", "$vlt"):
        return text
    return _scalar(text)


def _scalar(text: str) -> Any:
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float | bool | str) or value is None else text


def format_value(value: Any, operator: str) -> str:
    """The text a row shows for a stored value (the inverse of ``parse_value``)."""
    if operator in LIST_OPERATORS and isinstance(value, list):
        return ", ".join(_format_scalar(v) for v in value)
    if operator == "$exists":
        return "true" if value else "false"
    return _format_scalar(value)


def _format_scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _row_condition(row: Row) -> dict[str, Any]:
    return {row.attribute.strip(): {row.operator: parse_value(row.value, row.operator)}}


def build_condition(groups: list[Group]) -> dict[str, Any]:
    """The condition the groups describe: groups are ANDed, rows within a group by its mode."""
    parts: list[dict[str, Any]] = []
    for group in groups:
        rows = [_row_condition(r) for r in group.rows if r.attribute.strip()]
        if not rows:
            continue
        if len(rows) == 1:
            parts.append(rows[0])
        else:
            parts.append({f"${group.mode}": rows})
    if not parts:
        return {}
    if len(parts) == 1:
        return parts[0]
    return {"$and": parts}


def _rows_of(part: Any) -> list[Row] | None:
    """Rows for a dict of ``{attribute: {operator: value}}`` entries, or None if not that shape."""
    if not isinstance(part, dict) or not part:
        return None
    rows = []
    known = set(OPERATORS)
    for attribute, test in part.items():
        if attribute.startswith("$") or not isinstance(test, dict) or len(test) != 1:
            return None
        ((operator, value),) = test.items()
        if operator not in known:
            return None
        rows.append(Row(attribute, operator, format_value(value, operator)))
    return rows


def _group_of(part: Any) -> Group | None:
    if isinstance(part, dict) and len(part) == 1:
        ((name, items),) = part.items()
        if name in ("$and", "$or") and isinstance(items, list) and items:
            rows: list[Row] = []
            for item in items:
                found = _rows_of(item)
                if found is None or len(found) != 1:
                    return None
                rows.extend(found)
            return Group(mode=name[1:], rows=rows)
    rows_found = _rows_of(part)
    return None if rows_found is None else Group(mode="and", rows=rows_found)


def groups_from_condition(condition: Any) -> list[Group] | None:
    """The builder groups for a stored condition, or None when only the JSON can show it."""
    if condition in (None, {}):
        return [Group()]
    if isinstance(condition, dict) and list(condition) == ["$and"]:
        items = condition["$and"]
        if isinstance(items, list) and items and all(_group_of(i) for i in items):
            nested = [_group_of(i) for i in items]
            if any(len(g.rows) > 1 for g in nested if g):
                return [g for g in nested if g]
    group = _group_of(condition)
    return None if group is None else [group]


@dataclass(frozen=True)
class Verdict:
    targeted: bool
    reason: str  # no-targeting, all-match, part-fails (with failed_part) or no-match
    failed_part: str = ""


def _parts(condition: dict[str, Any]) -> list[dict[str, Any]]:
    if list(condition) == ["$and"] and isinstance(condition["$and"], list):
        return [p for p in condition["$and"] if isinstance(p, dict)]
    return [{k: v} for k, v in condition.items()]


def explain(attributes: dict[str, Any], condition: dict[str, Any]) -> Verdict:
    """Whether the attributes are targeted, and the first part of the condition they fail."""
    if not condition:
        return Verdict(True, "no-targeting")
    if eval_condition(attributes, condition):
        return Verdict(True, "all-match")
    for part in _parts(condition):
        if not eval_condition(attributes, part):
            return Verdict(False, "part-fails", json.dumps(part, ensure_ascii=False))
    return Verdict(False, "no-match")
