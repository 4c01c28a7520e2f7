"""Event filters: a targeting condition over an event's properties, in the subset that compiles
to SQL (``analysis.aggregation.filters``) so every engine runs the same filter.

A filter is first checked as any targeting condition (``validate_condition``, same messages);
then against the subset: top-level property keys, and the operators ``$eq``, ``$ne``, ``$in``,
``$nin``, ``$gt``, ``$gte``, ``$lt``, ``$lte``, ``$exists``, ``$not`` on a value, and ``$and``,
``$or``, ``$not`` over conditions. Values compared for equality are strings, numbers, booleans
or null; the order comparisons take numbers.

    >>> validate_event_filter({"coupon": "NEW10", "value": {"$gt": 0}})
    []
    >>> validate_event_filter({"channel": {"$regex": "^app"}})[0].path
    'channel.$regex'
"""

from __future__ import annotations

import re
from typing import Any

from experiments.targeting.messages import gettext_noop
from experiments.targeting.validate import Problem, validate_condition

__all__ = [
    "FILTER_COMPARISONS",
    "FILTER_LOGICAL",
    "FILTER_VALUE_OPERATORS",
    "PROPERTY_KEY",
    "validate_event_filter",
]

FILTER_LOGICAL = ("$and", "$or", "$not")
FILTER_COMPARISONS = ("$gt", "$gte", "$lt", "$lte")
FILTER_VALUE_OPERATORS = ("$eq", "$ne", "$in", "$nin", "$exists", "$not", *FILTER_COMPARISONS)
# A top-level property key: no dots (no nested paths), no quotes, so every engine's JSON path
# reads it the same way.
PROPERTY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
_SUPPORTED = ", ".join((*FILTER_VALUE_OPERATORS[:5], *FILTER_COMPARISONS, *FILTER_LOGICAL))


def validate_event_filter(condition: object) -> list[Problem]:
    """Problems with an event filter (empty when it is valid): a targeting condition's problems
    first, then any part outside the subset the aggregation compiles to SQL."""
    problems = validate_condition(condition)
    if problems or not isinstance(condition, dict):
        return problems
    _condition(condition, "", problems)
    return problems


def _join(path: str, part: str) -> str:
    if not path:
        return part
    return path + part if part.startswith("[") else f"{path}.{part}"


def _unsupported(path: str, op: str, problems: list[Problem]) -> None:
    problems.append(
        Problem(
            path,
            gettext_noop('event filters do not support "%(op)s" (they support: %(supported)s)'),
            {"op": op, "supported": _SUPPORTED},
        )
    )


def _condition(condition: dict[str, Any], path: str, problems: list[Problem]) -> None:
    for key, value in condition.items():
        here = _join(path, key)
        if key in ("$and", "$or"):
            for i, item in enumerate(value):
                _condition(item, f"{here}[{i}]", problems)
        elif key == "$not":
            _condition(value, here, problems)
        elif key.startswith("$"):
            _unsupported(here, key, problems)
        elif not PROPERTY_KEY.fullmatch(key):
            problems.append(
                Problem(
                    path,
                    gettext_noop(
                        'event filters name top-level properties: "%(key)s" is not one (a letter '
                        "or _, then up to 63 letters, digits, _ or -; no dots)"
                    ),
                    {"key": key},
                )
            )
        else:
            _value(value, here, problems)


def _is_operators(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(str(k).startswith("$") for k in value)


def _scalar(value: Any, path: str, problems: list[Problem]) -> None:
    if isinstance(value, dict | list):
        problems.append(
            Problem(
                path,
                gettext_noop("event filters compare with a string, number, boolean or null"),
            )
        )


def _value(value: Any, path: str, problems: list[Problem]) -> None:
    if not _is_operators(value):
        _scalar(value, path, problems)
        return
    for op, operand in value.items():
        here = _join(path, op)
        if op not in FILTER_VALUE_OPERATORS:
            _unsupported(here, op, problems)
        elif op in ("$eq", "$ne"):
            _scalar(operand, here, problems)
        elif op in ("$in", "$nin"):
            for i, item in enumerate(operand):
                _scalar(item, f"{here}[{i}]", problems)
        elif op in FILTER_COMPARISONS:
            if isinstance(operand, bool) or not isinstance(operand, int | float):
                message = gettext_noop("event filters compare %(op)s with a number")
                problems.append(Problem(here, message, {"op": op}))
        elif op == "$not":
            _value(operand, here, problems)
