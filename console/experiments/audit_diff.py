"""Before and after of an audit-log entry as a readable list of changed fields."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One changed field: its path (``variants[treatment].weight``) and both values as text;
    ``before`` or ``after`` is None when the field was added or removed."""

    path: str
    before: str | None
    after: str | None


def _text(value: Any) -> str | None:
    if value is _MISSING:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects with distinct ``key``/``metric``/``unit_id`` fields, by that field."""
    for field in ("key", "metric", "unit_id"):
        if items and all(isinstance(i, dict) and field in i for i in items):
            keys = [str(i[field]) for i in items]
            if len(set(keys)) == len(keys):
                return dict(zip(keys, items, strict=True))
    return None


def _walk(path: str, before: Any, after: Any, out: list[Change]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(dict.fromkeys([*before, *after])):
            sub = f"{path}.{key}" if path else str(key)
            _walk(sub, before.get(key, _MISSING), after.get(key, _MISSING), out)
        return
    if isinstance(before, list) and isinstance(after, list):
        old, new = _keyed(before), _keyed(after)
        if old is not None and new is not None:
            for key in list(dict.fromkeys([*old, *new])):
                _walk(f"{path}[{key}]", old.get(key, _MISSING), new.get(key, _MISSING), out)
            return
    out.append(Change(path=path or "·", before=_text(before), after=_text(after)))


def audit_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The fields that differ between ``before`` and ``after`` (either may be None), in order.

    Nested objects are walked; lists of objects that have a key (variants, metrics) are
    compared item by item, so a changed weight reads ``variants[treatment].weight: 1 → 2``.
    """
    out: list[Change] = []
    _walk("", before if before is not None else {}, after if after is not None else {}, out)
    return out
