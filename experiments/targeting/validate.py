"""Check a targeting condition before it is stored, with messages that say what and where.

Paths in messages read like the condition itself: ``country.$in``, ``$or[1]``,
``$and[0].app_version.$vgte``. Stricter than the evaluator on purpose: forms GrowthBook
evaluates but that are almost certainly mistakes (an operator that can never match, a number
where a version string belongs, an object mixing operators and plain keys) are rejected.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from experiments.targeting.jsregex import JSRegexError, compile_js_regex

__all__ = ["validate_condition", "MAX_DEPTH"]

MAX_DEPTH = 32
_LOGICAL = ("$and", "$or", "$nor", "$not")
_COMPARISONS = ("$lt", "$lte", "$gt", "$gte")
_VERSIONS = ("$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte")
_LISTS = ("$in", "$nin", "$ini", "$nini")
_TYPES = ("array", "boolean", "null", "number", "object", "string")
_VALUE_OPERATORS = (
    ("$eq", "$ne", "$exists", "$all", "$alli", "$regex", "$regexi", "$type", "$size")
    + ("$elemMatch", "$not", "$inGroup", "$notInGroup")
    + _COMPARISONS
    + _VERSIONS
    + _LISTS
)
_ALL_OPERATORS = _LOGICAL + _VALUE_OPERATORS
# GrowthBook's legacy attribute listing a user's groups; the one attribute allowed to start with $.
_LEGACY_GROUPS_ATTRIBUTE = "$groups"


def validate_condition(condition: object) -> list[str]:
    """Return human-readable problems with a targeting condition; empty when it is valid.

    The top level must be a JSON object (``{}`` matches everyone). Each message starts with
    the path of the offending part, for example ``country.$in: expected a list, got string``
    or ``$or[1]: unknown operator "$foo"``.
    """
    errors: list[str] = []
    if not isinstance(condition, dict):
        errors.append(f"expected a JSON object at the top level, got {_type_name(condition)}")
        return errors
    _check_condition(condition, "", 0, errors)
    return errors


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _join(path: str, part: str) -> str:
    if not path:
        return part
    return path + part if part.startswith("[") else f"{path}.{part}"


def _add(errors: list[str], path: str, message: str) -> None:
    errors.append(f"{path}: {message}" if path else message)


def _unknown(op: str) -> str:
    message = f'unknown operator "{op}"'
    close = difflib.get_close_matches(op, _ALL_OPERATORS, n=1, cutoff=0.6)
    return message + (f' (did you mean "{close[0]}"?)' if close else "")


def _check_condition(condition: Any, path: str, depth: int, errors: list[str]) -> None:
    if depth > MAX_DEPTH:
        _add(errors, path, f"nested more than {MAX_DEPTH} levels deep")
        return
    if not isinstance(condition, dict):
        _add(errors, path, f"expected an object of conditions, got {_type_name(condition)}")
        return
    for key, value in condition.items():
        if not isinstance(key, str):
            _add(errors, path, f"keys must be strings, got {_type_name(key)} {key!r}")
        elif key in ("$and", "$or", "$nor"):
            here = _join(path, key)
            if not isinstance(value, list):
                _add(errors, here, f"expected a list of conditions, got {_type_name(value)}")
                continue
            for i, item in enumerate(value):
                _check_condition(item, f"{here}[{i}]", depth + 1, errors)
        elif key == "$not":
            _check_condition(value, _join(path, key), depth + 1, errors)
        elif key == _LEGACY_GROUPS_ATTRIBUTE:
            _check_value(value, _join(path, key), depth + 1, errors)
        elif key.startswith("$"):
            if key in _VALUE_OPERATORS:
                _add(
                    errors,
                    path,
                    f'operator "{key}" must be applied to an attribute, '
                    f'as in {{"country": {{"{key}": ...}}}}',
                )
            else:
                _add(errors, path, _unknown(key))
        elif "" in key.split("."):
            _add(errors, path, f'invalid attribute path "{key}": empty part between dots')
        else:
            _check_value(value, _join(path, key), depth + 1, errors)


def _check_json(value: Any, path: str, errors: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value):
            _add(errors, path, f"numbers must be finite, got {value}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]", errors)
    elif isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                _add(errors, path, f"keys must be strings, got {_type_name(k)} {k!r}")
            else:
                _check_json(item, _join(path, k), errors)
    else:
        _add(errors, path, f"not a JSON value: {_type_name(value)}")


def _check_value(value: Any, path: str, depth: int, errors: list[str]) -> None:
    """A value under an attribute path: a literal to compare, or an object of operators."""
    if depth > MAX_DEPTH:
        _add(errors, path, f"nested more than {MAX_DEPTH} levels deep")
        return
    if not isinstance(value, dict) or not value:
        _check_json(value, path, errors)
        return
    dollar = [k for k in value if isinstance(k, str) and k.startswith("$")]
    if not dollar:
        _check_json(value, path, errors)  # a literal object, compared as a whole
        return
    plain = [k for k in value if not (isinstance(k, str) and k.startswith("$"))]
    if plain:
        _add(
            errors,
            path,
            f'mixes operators ("{dollar[0]}") with plain keys ({plain[0]!r}); '
            "use either only operators or a literal object",
        )
        return
    for op, arg in value.items():
        _check_operator(op, arg, path, depth, errors)


def _check_operator(  # noqa: C901 - one branch per operator
    op: str, arg: Any, path: str, depth: int, errors: list[str]
) -> None:
    here = _join(path, op)
    kind = _type_name(arg)
    if op in ("$eq", "$ne"):
        if isinstance(arg, list | dict):
            _add(
                errors,
                here,
                f"expected a string, number, boolean or null, got {kind} "
                "(with this operator a list or object never matches; compare without the operator)",
            )
        else:
            _check_json(arg, here, errors)
    elif op in _COMPARISONS:
        if isinstance(arg, bool) or not isinstance(arg, int | float | str):
            _add(errors, here, f"expected a number or a string, got {kind}")
        else:
            _check_json(arg, here, errors)
    elif op in _VERSIONS:
        if not isinstance(arg, str) or not arg.strip() or any(c.isspace() for c in arg):
            shown = f"{kind} {arg!r}" if isinstance(arg, str) else kind
            _add(errors, here, f'expected a version string such as "3.2.0", got {shown}')
    elif op == "$exists":
        if not isinstance(arg, bool):
            _add(errors, here, f"expected true or false, got {kind}")
    elif op in _LISTS:
        if not isinstance(arg, list):
            _add(errors, here, f"expected a list, got {kind}")
            return
        for i, item in enumerate(arg):
            if isinstance(item, list | dict):
                _add(errors, f"{here}[{i}]", f"a {_type_name(item)} in {op} never matches")
            else:
                _check_json(item, f"{here}[{i}]", errors)
    elif op in ("$all", "$alli"):
        if not isinstance(arg, list):
            _add(errors, here, f"expected a list, got {kind}")
            return
        for i, item in enumerate(arg):
            _check_value(item, f"{here}[{i}]", depth + 1, errors)
    elif op in ("$regex", "$regexi"):
        if not isinstance(arg, str):
            _add(errors, here, f"expected a regular expression string, got {kind}")
            return
        try:
            compile_js_regex(arg, insensitive=op == "$regexi")
        except JSRegexError as exc:
            _add(errors, here, f"invalid regular expression {arg!r}: {exc}")
    elif op == "$type":
        if arg not in _TYPES:
            choices = ", ".join(f'"{t}"' for t in _TYPES)
            shown = repr(arg) if isinstance(arg, str) else kind
            _add(errors, here, f"expected one of {choices}, got {shown}")
    elif op == "$size":
        if isinstance(arg, dict) and arg:
            _check_value(arg, here, depth + 1, errors)
        elif isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
            _add(errors, here, f"expected a non-negative integer or an operator object, got {kind}")
    elif op == "$elemMatch":
        if not isinstance(arg, dict) or not arg:
            _add(errors, here, f"expected a non-empty object, got {kind}")
        elif all(isinstance(k, str) and k.startswith("$") for k in arg):
            _check_value(arg, here, depth + 1, errors)  # operators applied to each element
        else:
            _check_condition(arg, here, depth + 1, errors)  # conditions on element fields
    elif op == "$not":
        _check_value(arg, here, depth + 1, errors)
    elif op in ("$inGroup", "$notInGroup"):
        if not isinstance(arg, str) or not arg:
            _add(errors, here, f"expected a saved group id (a string), got {kind}")
    else:
        _add(errors, path, _unknown(op))
