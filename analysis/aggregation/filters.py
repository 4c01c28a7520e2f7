"""Event filters compiled to canonical SQL: a condition in the targeting syntax over an event's
properties (the subset ``experiments.targeting.event_filter`` accepts on save) becomes a
boolean expression that PostgreSQL, SQLite and Spark evaluate alike.

A property is read through three markers (``dialect.py``): ``VERDICT_JSON_TYPE`` (its JSON
type: ``string``, ``number``, ``true``, ``false``, ``null``, ``object``, ``array``; NULL when
absent), ``VERDICT_JSON_TEXT`` (a string's text) and ``VERDICT_JSON_NUMBER`` (a number).
Comparisons are typed: ``{"coupon": "NEW10"}`` matches the string "NEW10" only (not a number
or a boolean), ``{"value": {"$gt": 0}}`` a number above 0 only, ``{"x": null}`` and
``{"x": {"$exists": false}}`` a property that is absent or null. A comparison with an absent
property (or one of another type) is NULL, which counts as no match at every level: a negation
(``$not``, ``$ne``, ``$nin``) reads it as FALSE first, so it matches there.
"""

from __future__ import annotations

from typing import Any

from .dialect import lit

_ORDER = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def filter_sql(condition: dict[str, Any] | None, properties: str) -> str:
    """The canonical SQL condition that ``properties`` (a JSON column) matches ``condition``
    (``1 = 1`` for no filter)."""
    if not condition:
        return "1 = 1"
    return _condition(condition, properties)


def _all(parts: list[str]) -> str:
    return "(" + " AND ".join(parts) + ")" if parts else "(1 = 1)"


def _any(parts: list[str]) -> str:
    return "(" + " OR ".join(parts) + ")" if parts else "(1 = 0)"


def _condition(condition: dict[str, Any], props: str) -> str:
    parts = []
    for key, value in condition.items():
        if key == "$and":
            parts.append(_all([_condition(c, props) for c in value]))
        elif key == "$or":
            parts.append(_any([_condition(c, props) for c in value]))
        elif key == "$not":
            parts.append(_not(_condition(value, props)))
        elif key.startswith("$"):
            raise ValueError(f"event filters do not support {key!r}")
        else:
            parts.append(_value(key, value, props))
    return _all(parts)


def _is_operators(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(str(k).startswith("$") for k in value)


def _json_type(props: str, key: str) -> str:
    return f"COALESCE(VERDICT_JSON_TYPE({props}, {lit(key)}), 'null')"


def _not(condition: str) -> str:
    return f"(NOT COALESCE({condition}, FALSE))"


def _equals(key: str, value: Any, props: str) -> str:
    """The property ``key`` equals the JSON scalar ``value`` (same type and value)."""
    kind = _json_type(props, key)
    if value is None:
        return f"({kind} = 'null')"
    if isinstance(value, bool):
        return f"({kind} = {lit('true' if value else 'false')})"
    if isinstance(value, int | float):
        return f"(VERDICT_JSON_NUMBER({props}, {lit(key)}) = {lit(float(value))})"
    if isinstance(value, str):
        return f"(VERDICT_JSON_TEXT({props}, {lit(key)}) = {lit(value)})"
    raise ValueError(f"event filters compare with scalars, got {type(value).__name__}")


def _value(key: str, value: Any, props: str) -> str:
    if not _is_operators(value):
        return _equals(key, value, props)
    parts = []
    for op, operand in value.items():
        if op == "$eq":
            parts.append(_equals(key, operand, props))
        elif op == "$ne":
            parts.append(_not(_equals(key, operand, props)))
        elif op == "$in":
            parts.append(_any([_equals(key, v, props) for v in operand]))
        elif op == "$nin":
            parts.append(_not(_any([_equals(key, v, props) for v in operand])))
        elif op in _ORDER:
            number = f"VERDICT_JSON_NUMBER({props}, {lit(key)})"
            parts.append(f"({number} {_ORDER[op]} {lit(float(operand))})")
        elif op == "$exists":
            present = f"({_json_type(props, key)} <> 'null')"
            parts.append(present if operand else _not(present))
        elif op == "$not":
            parts.append(_not(_value(key, operand, props)))
        else:
            raise ValueError(f"event filters do not support {op!r}")
    return _all(parts)
