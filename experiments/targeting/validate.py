"""Check a targeting condition before it is stored, with messages that say what and where.

Paths in messages read like the condition itself: ``country.$in``, ``$or[1]``,
``$and[0].app_version.$vgte``. Stricter than the evaluator on purpose: forms GrowthBook
evaluates but that are almost certainly mistakes (an operator that can never match, a number
where a version string belongs, an object mixing operators and plain keys) are rejected.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from typing import Any

from experiments.targeting.jsregex import JSRegexError, UnsafeRegexError, check_js_regex
from experiments.targeting.messages import gettext_noop

__all__ = ["validate_condition", "MAX_DEPTH", "Problem"]


class Problem(str):
    """One problem with a condition. It reads as the English message with its path
    (``country.$in: expected a list, got string``) and keeps the message's template, values and
    path, so the Django side can show it in the reader's language:
    ``problem.translated(gettext)`` translates the template first, then fills in the values."""

    template: str
    params: dict[str, Any]
    path: str

    def __new__(cls, path: str, template: str, params: dict[str, Any] | None = None) -> Problem:
        params = dict(params or {})
        text = template % params if params else template
        problem = super().__new__(cls, f"{path}: {text}" if path else text)
        problem.template, problem.params, problem.path = template, params, path
        return problem

    def __reduce__(self) -> tuple[Any, ...]:
        return (Problem, (self.path, self.template, self.params))

    def translated(self, gettext: Callable[[str], str]) -> str:
        """The message in the language ``gettext`` translates to (the path stays as written)."""
        text = gettext(self.template)
        if self.params:
            text = text % self.params
        return f"{self.path}: {text}" if self.path else text


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


def validate_condition(condition: object) -> list[Problem]:
    """Return human-readable problems with a targeting condition; empty when it is valid.

    The top level must be a JSON object (``{}`` matches everyone). Each message starts with
    the path of the offending part, for example ``country.$in: expected a list, got string``
    or ``$or[1]: unknown operator "$foo"``.
    """
    errors: list[Problem] = []
    if not isinstance(condition, dict):
        _add(
            errors,
            "",
            gettext_noop("expected a JSON object at the top level, got %(type)s"),
            type=_type_name(condition),
        )
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


def _add(errors: list[Problem], path: str, template: str, **params: Any) -> None:
    errors.append(Problem(path, template, params))


def _add_unknown(errors: list[Problem], path: str, op: str) -> None:
    close = difflib.get_close_matches(op, _ALL_OPERATORS, n=1, cutoff=0.6)
    if close:
        message = gettext_noop('unknown operator "%(op)s" (did you mean "%(suggestion)s"?)')
        _add(errors, path, message, op=op, suggestion=close[0])
    else:
        _add(errors, path, gettext_noop('unknown operator "%(op)s"'), op=op)


def _check_condition(condition: Any, path: str, depth: int, errors: list[Problem]) -> None:
    if depth > MAX_DEPTH:
        _add(errors, path, gettext_noop("nested more than %(depth)s levels deep"), depth=MAX_DEPTH)
        return
    if not isinstance(condition, dict):
        _add(
            errors,
            path,
            gettext_noop("expected an object of conditions, got %(type)s"),
            type=_type_name(condition),
        )
        return
    for key, value in condition.items():
        if not isinstance(key, str):
            _add(
                errors,
                path,
                gettext_noop("keys must be strings, got %(type)s %(key)s"),
                type=_type_name(key),
                key=repr(key),
            )
        elif key in ("$and", "$or", "$nor"):
            here = _join(path, key)
            if not isinstance(value, list):
                _add(
                    errors,
                    here,
                    gettext_noop("expected a list of conditions, got %(type)s"),
                    type=_type_name(value),
                )
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
                    gettext_noop(
                        'operator "%(op)s" must be applied to an attribute, '
                        'as in {"country": {"%(op)s": ...}}'
                    ),
                    op=key,
                )
            else:
                _add_unknown(errors, path, key)
        elif "" in key.split("."):
            _add(
                errors,
                path,
                gettext_noop('invalid attribute path "%(key)s": empty part between dots'),
                key=key,
            )
        else:
            _check_value(value, _join(path, key), depth + 1, errors)


def _check_json(value: Any, path: str, errors: list[Problem]) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value):
            _add(errors, path, gettext_noop("numbers must be finite, got %(value)s"), value=value)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]", errors)
    elif isinstance(value, dict):
        for k, item in value.items():
            if not isinstance(k, str):
                _add(
                    errors,
                    path,
                    gettext_noop("keys must be strings, got %(type)s %(key)s"),
                    type=_type_name(k),
                    key=repr(k),
                )
            else:
                _check_json(item, _join(path, k), errors)
    else:
        _add(errors, path, gettext_noop("not a JSON value: %(type)s"), type=_type_name(value))


def _check_value(value: Any, path: str, depth: int, errors: list[Problem]) -> None:
    """A value under an attribute path: a literal to compare, or an object of operators."""
    if depth > MAX_DEPTH:
        _add(errors, path, gettext_noop("nested more than %(depth)s levels deep"), depth=MAX_DEPTH)
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
            gettext_noop(
                'mixes operators ("%(op)s") with plain keys (%(key)s); '
                "use either only operators or a literal object"
            ),
            op=dollar[0],
            key=repr(plain[0]),
        )
        return
    for op, arg in value.items():
        _check_operator(op, arg, path, depth, errors)


def _check_operator(  # noqa: C901 - one branch per operator
    op: str, arg: Any, path: str, depth: int, errors: list[Problem]
) -> None:
    here = _join(path, op)
    kind = _type_name(arg)
    if op in ("$eq", "$ne"):
        if isinstance(arg, list | dict):
            _add(
                errors,
                here,
                gettext_noop(
                    "expected a string, number, boolean or null, got %(type)s (with this "
                    "operator a list or object never matches; compare without the operator)"
                ),
                type=kind,
            )
        else:
            _check_json(arg, here, errors)
    elif op in _COMPARISONS:
        if isinstance(arg, bool) or not isinstance(arg, int | float | str):
            _add(
                errors, here, gettext_noop("expected a number or a string, got %(type)s"), type=kind
            )
        else:
            _check_json(arg, here, errors)
    elif op in _VERSIONS:
        if not isinstance(arg, str) or not arg.strip() or any(c.isspace() for c in arg):
            shown = f"{kind} {arg!r}" if isinstance(arg, str) else kind
            _add(
                errors,
                here,
                gettext_noop('expected a version string such as "3.2.0", got %(value)s'),
                value=shown,
            )
    elif op == "$exists":
        if not isinstance(arg, bool):
            _add(errors, here, gettext_noop("expected true or false, got %(type)s"), type=kind)
    elif op in _LISTS:
        if not isinstance(arg, list):
            _add(errors, here, gettext_noop("expected a list, got %(type)s"), type=kind)
            return
        for i, item in enumerate(arg):
            if isinstance(item, list | dict):
                _add(
                    errors,
                    f"{here}[{i}]",
                    gettext_noop("a %(type)s in %(op)s never matches"),
                    type=_type_name(item),
                    op=op,
                )
            else:
                _check_json(item, f"{here}[{i}]", errors)
    elif op in ("$all", "$alli"):
        if not isinstance(arg, list):
            _add(errors, here, gettext_noop("expected a list, got %(type)s"), type=kind)
            return
        for i, item in enumerate(arg):
            _check_value(item, f"{here}[{i}]", depth + 1, errors)
    elif op in ("$regex", "$regexi"):
        if not isinstance(arg, str):
            _add(
                errors,
                here,
                gettext_noop("expected a regular expression string, got %(type)s"),
                type=kind,
            )
            return
        try:
            check_js_regex(arg, insensitive=op == "$regexi")
        except UnsafeRegexError as exc:  # valid, but could freeze a matcher that backtracks
            errors.append(Problem(here, exc.template, exc.params))
        except JSRegexError as exc:
            _add(
                errors,
                here,
                gettext_noop("invalid regular expression %(pattern)s: %(reason)s"),
                pattern=repr(arg),
                reason=str(exc),
            )
    elif op == "$type":
        if arg not in _TYPES:
            choices = ", ".join(f'"{t}"' for t in _TYPES)
            shown = repr(arg) if isinstance(arg, str) else kind
            _add(
                errors,
                here,
                gettext_noop("expected one of %(choices)s, got %(value)s"),
                choices=choices,
                value=shown,
            )
    elif op == "$size":
        if isinstance(arg, dict) and arg:
            _check_value(arg, here, depth + 1, errors)
        elif isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
            _add(
                errors,
                here,
                gettext_noop("expected a non-negative integer or an operator object, got %(type)s"),
                type=kind,
            )
    elif op == "$elemMatch":
        if not isinstance(arg, dict) or not arg:
            _add(errors, here, gettext_noop("expected a non-empty object, got %(type)s"), type=kind)
        elif all(isinstance(k, str) and k.startswith("$") for k in arg):
            _check_value(arg, here, depth + 1, errors)  # operators applied to each element
        else:
            _check_condition(arg, here, depth + 1, errors)  # conditions on element fields
    elif op == "$not":
        _check_value(arg, here, depth + 1, errors)
    elif op in ("$inGroup", "$notInGroup"):
        if not isinstance(arg, str) or not arg:
            _add(
                errors,
                here,
                gettext_noop("expected a saved group id (a string), got %(type)s"),
                type=kind,
            )
    else:
        _add_unknown(errors, path, op)
