"""A targeting condition in plain words, for people reading an experiment page.

    >>> targeting_in_words({"country": {"$in": ["CN", "SG"]}, "app_version": {"$vgte": "3.2.0"}})
    'country is CN or SG, and app version ≥ 3.2.0'

Works on GrowthBook-style conditions as ``experiments.targeting`` evaluates them. Parts it has no
words for are shown as their JSON, so nothing is hidden. Words go through gettext.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

_SYMBOLS = {
    "$gt": ">",
    "$gte": "≥",
    "$lt": "<",
    "$lte": "≤",
    "$vgt": ">",
    "$vgte": "≥",
    "$vlt": "<",
    "$vlte": "≤",
    "$veq": "=",
    "$vne": "≠",
}


def _value(value: Any) -> str:
    if value is True:
        return _("true")
    if value is False:
        return _("false")
    if value is None:
        return _("empty")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _either(values: Any) -> str:
    if not isinstance(values, list) or not values:
        return _value(values)
    return _(" or ").join(_value(v) for v in values)


def _attribute(name: str) -> str:
    return name.replace("_", " ").replace(".", " › ")


def _operator(attribute: str, op: str, arg: Any) -> str:
    a = attribute
    if op == "$eq":
        return _("%(a)s is %(v)s") % {"a": a, "v": _value(arg)}
    if op == "$ne":
        return _("%(a)s is not %(v)s") % {"a": a, "v": _value(arg)}
    if op in ("$in", "$ini"):
        return _("%(a)s is %(v)s") % {"a": a, "v": _either(arg)}
    if op in ("$nin", "$nini"):
        return _("%(a)s is none of %(v)s") % {"a": a, "v": _(", ").join(map(_value, arg or []))}
    if op in _SYMBOLS:
        return f"{a} {_SYMBOLS[op]} {_value(arg)}"
    if op == "$exists":
        return (_("%(a)s is set") if arg else _("%(a)s is not set")) % {"a": a}
    if op in ("$regex", "$regexi"):
        return _("%(a)s matches /%(v)s/") % {"a": a, "v": _value(arg)}
    if op in ("$all", "$alli"):
        return _("%(a)s includes all of %(v)s") % {"a": a, "v": _(", ").join(map(_value, arg))}
    if op == "$elemMatch":
        return _("%(a)s has an item where %(v)s") % {"a": a, "v": condition_words(arg)}
    if op == "$size":
        return _("%(a)s has %(v)s items") % {"a": a, "v": _value(arg)}
    if op == "$type":
        return _("%(a)s is of type %(v)s") % {"a": a, "v": _value(arg)}
    if op == "$not":
        return _("not (%(v)s)") % {"v": _attribute_words(attribute, arg)}
    return f"{a} {op} {json.dumps(arg, ensure_ascii=False)}"


def _attribute_words(attribute: str, test: Any) -> str:
    if isinstance(test, dict) and test and all(k.startswith("$") for k in test):
        return _(" and ").join(_operator(attribute, op, arg) for op, arg in test.items())
    return _operator(attribute, "$eq", test)


def _group(parts: list[Any], joiner: str) -> str:
    words = [condition_words(p) for p in parts]
    if len(words) == 1:
        return words[0]
    return joiner.join(f"({w})" if (" " in w and len(parts) > 1) else w for w in words)


def condition_words(condition: Any) -> str:
    """The words for one condition object (no top-level "everyone")."""
    if not isinstance(condition, dict):
        return json.dumps(condition, ensure_ascii=False)
    clauses: list[str] = []
    for key, test in condition.items():
        if key == "$and":
            clauses.append(_group(list(test), _(" and ")))
        elif key == "$or":
            clauses.append(_("either %(v)s") % {"v": _group(list(test), _(" or "))})
        elif key == "$nor":
            clauses.append(_("none of %(v)s") % {"v": _group(list(test), _("; "))})
        elif key == "$not":
            clauses.append(_("not (%(v)s)") % {"v": condition_words(test)})
        else:
            clauses.append(_attribute_words(_attribute(key), test))
    return _(", and ").join(clauses)


def targeting_in_words(condition: Any) -> str:
    """The whole targeting condition in words; ``{}`` (or nothing) targets everyone."""
    if not condition:
        return _("everyone")
    return condition_words(condition)
