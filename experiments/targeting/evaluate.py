"""Evaluate a targeting condition against the attributes an app sent.

The semantics are those of GrowthBook's reference (JavaScript) evaluator, including its loose
comparisons, so that a condition means the same in Verdict and in any GrowthBook SDK:

- a condition is an object whose keys are ``$and``/``$or``/``$nor``/``$not`` or attribute paths
  (``"father.age"``, numeric parts index arrays); every key must hold;
- a path's value is a plain value (string, number, boolean and null compare loosely, arrays and
  objects compare as JSON) or an object of operators that must all hold;
- a missing attribute reads as ``null``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from experiments.targeting import jsvalues as js
from experiments.targeting.jsregex import js_regex_search

__all__ = ["eval_condition"]


class _JSTypeError(Exception):
    """Where the JavaScript evaluator would throw a TypeError (only for malformed conditions)."""


def eval_condition(
    attributes: dict[str, Any],
    condition: dict[str, Any],
    *,
    saved_groups: dict[str, list[Any]] | None = None,
) -> bool:
    """Return whether ``attributes`` match the MongoDB-style targeting ``condition``.

    ``condition`` must be a dict; an empty dict matches everything. ``saved_groups`` maps a
    group id to its member values for ``$inGroup`` / ``$notInGroup``. A malformed condition
    (one :func:`~experiments.targeting.validate_condition` rejects) never raises: it evaluates
    as GrowthBook's SDK would, or to ``False`` where that SDK would throw.
    """
    if not isinstance(condition, dict):
        raise TypeError(f"condition must be a dict, not {type(condition).__name__}")
    try:
        return _eval(attributes, condition, saved_groups or {})
    except (_JSTypeError, RecursionError):
        return False


def _entries(condition: Any) -> list[tuple[str, Any]]:
    # Object.entries() of whatever the condition is.
    if isinstance(condition, dict):
        return [(str(k), v) for k, v in condition.items()]
    if isinstance(condition, list | str):
        return [(str(i), v) for i, v in enumerate(condition)]
    if condition is None:
        raise _JSTypeError("Cannot convert null to object")
    return []


def _sequence(conditions: Any) -> list[Any] | None:
    # The array $or/$and iterate; None when `.length` is undefined.
    if isinstance(conditions, list | str):
        return list(conditions)
    if conditions is None:
        raise _JSTypeError("Cannot read properties of null")
    return None


def _eval(obj: Any, condition: Any, groups: dict[str, list[Any]]) -> bool:
    for key, value in _entries(condition):
        if key == "$or":
            if not _eval_or(obj, value, groups):
                return False
        elif key == "$nor":
            if _eval_or(obj, value, groups):
                return False
        elif key == "$and":
            if not _eval_and(obj, value, groups):
                return False
        elif key == "$not":
            if _eval(obj, value, groups):
                return False
        elif not _eval_value(value, get_path(obj, key), groups):
            return False
    return True


def _eval_or(obj: Any, conditions: Any, groups: dict[str, list[Any]]) -> bool:
    items = _sequence(conditions)
    if not items:  # an empty (or length-less) $or passes
        return True
    return any(_eval(obj, c, groups) for c in items)


def _eval_and(obj: Any, conditions: Any, groups: dict[str, list[Any]]) -> bool:
    return all(_eval(obj, c, groups) for c in _sequence(conditions) or ())


def get_path(obj: Any, path: str) -> Any:
    """The value at a dot-separated path, or ``None`` if any step is missing.

    Like JavaScript property access: a numeric part indexes an array, ``length`` of an array is
    its length; anything that is not an object or array has no properties.
    """
    current = obj
    for part in path.split("."):
        if isinstance(current, dict):
            if part not in current:
                return None
            current = current[part]
        elif isinstance(current, list):
            if js.is_array_index(part) and int(part) < len(current):
                current = current[int(part)]
            elif part == "length":
                current = len(current)
            else:
                return None
        else:
            return None
    return current


def is_operator_object(value: Any) -> bool:
    """A non-empty dict whose keys all start with ``$``."""
    return (
        isinstance(value, dict)
        and len(value) > 0
        and all(isinstance(k, str) and k.startswith("$") for k in value)
    )


def _eval_value(
    condition: Any, value: Any, groups: dict[str, list[Any]], insensitive: bool = False
) -> bool:
    if isinstance(condition, str):
        if insensitive:
            return js.to_string(value).lower() == condition.lower()
        return js.to_string(value) == condition
    if isinstance(condition, bool):
        return value is not None and js.truthy(value) == condition
    if js.is_number(condition):
        return js.strict_equals(js.to_number(value), condition)
    if condition is None:
        return value is None
    if isinstance(condition, list) or not is_operator_object(condition):
        return js.stringify(value) == js.stringify(condition)
    return all(_eval_operator(op, value, arg, groups) for op, arg in condition.items())


def _elem_match(actual: Any, expected: Any, groups: dict[str, list[Any]]) -> bool:
    if not isinstance(actual, list):
        return False
    if expected is None:
        raise _JSTypeError("Cannot convert null to object")
    operators = is_operator_object(expected)
    for item in actual:
        if not js.truthy(item):  # GrowthBook skips falsy elements (0, "", false, null)
            continue
        if operators:
            if _eval_value(expected, item, groups):
                return True
        elif _eval(item, expected, groups):
            return True
    return False


def _fold(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _is_in(actual: Any, expected: list[Any], insensitive: bool = False) -> bool:
    if insensitive:
        folded = [_fold(e) for e in expected]
        candidates = actual if isinstance(actual, list) else [actual]
        return any(js.strict_equals(_fold(a), e) for a in candidates for e in folded)
    if isinstance(actual, list):  # intersection when the attribute is an array
        return any(js.same_value_zero(a, e) for a in actual for e in expected)
    return any(js.same_value_zero(actual, e) for e in expected)


def _is_in_all(
    actual: Any, expected: list[Any], groups: dict[str, list[Any]], insensitive: bool
) -> bool:
    if not isinstance(actual, list):
        return False
    return all(any(_eval_value(e, a, groups, insensitive) for a in actual) for e in expected)


def _group(groups: dict[str, list[Any]], key: Any) -> list[Any]:
    members = groups.get(js.to_string(key)) if isinstance(key, str | int | float) else None
    return members if isinstance(members, list) else []


def _regex_test(pattern: Any, actual: Any, insensitive: bool) -> bool:
    # Linear time in the text, whatever the pattern (see experiments.targeting.jsregex).
    return js_regex_search(js.to_string(pattern), js.to_string(actual), insensitive)


def _type_of(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, list):
        return "array"
    if isinstance(v, bool):
        return "boolean"
    if js.is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    return "unknown"


def _eval_operator(  # noqa: C901 - one branch per operator, like the reference evaluator
    op: str, actual: Any, expected: Any, groups: dict[str, list[Any]]
) -> bool:
    if op.startswith("$v") and op in _VERSION_OPS:
        return _VERSION_OPS[op](
            js.padded_version_string(actual), js.padded_version_string(expected)
        )
    if op == "$eq":
        return js.strict_equals(actual, expected)
    if op == "$ne":
        return not js.strict_equals(actual, expected)
    if op == "$lt":
        return js.lt(actual, expected)
    if op == "$lte":
        return js.lte(actual, expected)
    if op == "$gt":
        return js.gt(actual, expected)
    if op == "$gte":
        return js.gte(actual, expected)
    if op == "$exists":
        return (actual is not None) if js.truthy(expected) else (actual is None)
    if op in ("$in", "$nin", "$ini", "$nini"):
        if not isinstance(expected, list):
            return False
        found = _is_in(actual, expected, insensitive=op.endswith("i"))
        return found if op in ("$in", "$ini") else not found
    if op == "$inGroup":
        return _is_in(actual, _group(groups, expected))
    if op == "$notInGroup":
        return not _is_in(actual, _group(groups, expected))
    if op == "$not":
        return not _eval_value(expected, actual, groups)
    if op == "$size":
        return isinstance(actual, list) and _eval_value(expected, len(actual), groups)
    if op == "$elemMatch":
        return _elem_match(actual, expected, groups)
    if op in ("$all", "$alli"):
        return isinstance(expected, list) and _is_in_all(actual, expected, groups, op == "$alli")
    if op == "$regex":
        return _regex_test(expected, actual, insensitive=False)
    if op == "$regexi":
        return _regex_test(expected, actual, insensitive=True)
    if op == "$type":
        return isinstance(expected, str) and _type_of(actual) == expected
    return False  # unknown operator: never matches


def _version_cmp(a: str, b: str) -> int:
    if a == b:
        return 0
    return -1 if js.string_less(a, b) else 1


_VERSION_OPS: dict[str, Callable[[str, str], bool]] = {
    "$veq": lambda a, b: a == b,
    "$vne": lambda a, b: a != b,
    "$vgt": lambda a, b: _version_cmp(a, b) > 0,
    "$vgte": lambda a, b: _version_cmp(a, b) >= 0,
    "$vlt": lambda a, b: _version_cmp(a, b) < 0,
    "$vlte": lambda a, b: _version_cmp(a, b) <= 0,
}
