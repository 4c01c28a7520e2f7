"""Before and after of an audit-log entry as a readable list of changed fields.

``audit_changes`` compares the stored JSON (pure: paths and values); ``audit_entry_view``
turns one entry into what the audit tab shows: each field by its label in the reader's
language, each value in words (a status by its label, a share as a percentage, a targeting
condition as a sentence, warnings as sentences), empty values left out, and long values
shortened with the whole of them one click away.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from console.labels import (
    ACTION_LABELS,
    AUDIT_FIELD_LABELS,
    CORRECTION_LABELS,
    DECISION_LABELS,
    HISTORY_KIND_LABELS,
    KIND_LABELS,
    METHOD_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    label,
)

from .targeting_words import targeting_in_words

_MISSING = object()
# Values longer than this (or on several lines) are shortened, with the whole in <details>.
SHORT_LENGTH = 80
# A created object with more fields than this is listed folded.
FOLD_AFTER = 4
# Fields whose stored code has a label of its own.
_CODE_LABELS: dict[str, dict[str, Promise]] = {
    "status": STATUS_LABELS,
    "kind": KIND_LABELS,
    "decision": DECISION_LABELS,
    "role": ROLE_LABELS,
    "method": METHOD_LABELS,
    "correction": CORRECTION_LABELS,
    "segment_correction": CORRECTION_LABELS,
}
# Fields compared as a whole (a condition reads as one sentence, not as its parts).
_WHOLE = frozenset({"targeting"})
# Fields stored as a share from 0 to 1, read as a percentage.
_SHARES = frozenset({"coverage", "mde", "layer_share", "harm_threshold"})


@dataclass(frozen=True)
class Change:
    """One changed field: its path (``variants[treatment].weight``) and both values as text;
    ``before`` or ``after`` is None when the field was added or removed."""

    path: str
    before: str | None
    after: str | None
    raw_before: Any = field(default=None, compare=False, repr=False)
    raw_after: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Shown:
    """A value as the audit tab shows it: ``text`` on one line; ``lines`` for a list of
    sentences (warnings); ``full`` when ``text`` is shortened or the value has a fuller form
    (a condition's JSON), shown inside <details>."""

    text: str
    lines: tuple[str, ...] = ()
    full: str = ""
    # ``full`` is JSON (shown as code) rather than prose.
    code: bool = False


@dataclass(frozen=True)
class ShownChange:
    path: str
    label: str
    before: Shown | None
    after: Shown | None


@dataclass(frozen=True)
class EntryView:
    action_label: str
    message: str
    changes: list[ShownChange]
    # A created object (no before): its fields are listed with their values only.
    created: bool
    # A created object's fields are a record, not a change: listed folded when there are
    # more than a few (an experiment), open when short (a QA override).
    folded: bool


def _text(value: Any) -> str | None:
    if value is _MISSING:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _identity(items: list[Any]) -> str | None:
    """The field (``key``, ``metric`` or ``unit_id``) that tells a list's objects apart."""
    for name in ("key", "metric", "unit_id"):
        if items and all(isinstance(i, dict) and name in i for i in items):
            keys = [str(i[name]) for i in items]
            if len(set(keys)) == len(keys):
                return name
    return None


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects with distinct ``key``/``metric``/``unit_id`` fields, by that field,
    without it (the path names it already: ``variants[treatment].weight``)."""
    name = _identity(items)
    if name is None:
        return None
    return {str(i[name]): {k: v for k, v in i.items() if k != name} for i in items}


def _empty_like(value: Any, other: Any) -> Any:
    """A missing side of a dict or of a keyed list stands for an empty one, so a created or
    removed object is listed field by field."""
    if value is _MISSING and isinstance(other, dict):
        return {}
    if value is _MISSING and isinstance(other, list) and _keyed(other) is not None:
        return []
    return value


_FIELD_RANK = {name: rank for rank, name in enumerate(AUDIT_FIELD_LABELS)}


def _walk(path: str, before: Any, after: Any, out: list[Change]) -> None:
    if before == after:
        return
    whole = path.rsplit(".", 1)[-1] in _WHOLE
    if not whole:
        before, after = _empty_like(before, after), _empty_like(after, before)
    if isinstance(before, dict) and isinstance(after, dict) and not whole:
        keys = list(dict.fromkeys([*before, *after]))
        if not path:
            # The form's order, whatever order the database kept the record's keys in
            # (PostgreSQL's jsonb sorts them by length).
            keys.sort(key=lambda k: _FIELD_RANK.get(k, len(_FIELD_RANK)))
        for key in keys:
            sub = f"{path}.{key}" if path else str(key)
            _walk(sub, before.get(key, _MISSING), after.get(key, _MISSING), out)
        return
    if isinstance(before, list) and isinstance(after, list):
        old = _keyed(before) if before else {}
        new = _keyed(after) if after else {}
        if old is not None and new is not None and (old or new):
            for key in list(dict.fromkeys([*old, *new])):
                _walk(f"{path}[{key}]", old.get(key, _MISSING), new.get(key, _MISSING), out)
            return
    out.append(
        Change(
            path=path or "·",
            before=_text(before),
            after=_text(after),
            raw_before=None if before is _MISSING else before,
            raw_after=None if after is _MISSING else after,
        )
    )


def audit_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The fields that differ between ``before`` and ``after`` (either may be None), in order.

    Nested objects are walked; lists of objects that have a key (variants, metrics) are
    compared item by item, so a changed weight reads ``variants[treatment].weight: 1 → 2``,
    and a created object's fields are listed one by one.
    """
    out: list[Change] = []
    _walk("", before if before is not None else {}, after if after is not None else {}, out)
    return out


def _segments(path: str) -> list[tuple[str, bool]]:
    """``variants[treatment].weight`` as ``[("variants", False), ("treatment", True),
    ("weight", False)]``: field names, and the keys of list items (shown as they are)."""
    out: list[tuple[str, bool]] = []
    for part in path.split("."):
        name, _sep, rest = part.partition("[")
        if name:
            out.append((name, False))
        for item in rest.split("[") if rest else []:
            out.append((item.rstrip("]"), True))
    return out


def field_label(path: str) -> str:
    """A path in words: ``variants[treatment].weight`` reads "Variants › treatment › Weight"
    (field names through ``AUDIT_FIELD_LABELS``; an unknown name is shown as stored)."""
    words = [
        name if is_key else label(AUDIT_FIELD_LABELS, name) for name, is_key in _segments(path)
    ]
    return " › ".join(words) or path


def _number(value: float) -> str:
    """A number without float noise: 1.0 reads "1", 0.1 * 100 reads "10"."""
    rounded = round(float(value), 6)
    return number_format(int(rounded) if rounded.is_integer() else rounded)


def _short(text: str) -> Shown:
    if len(text) <= SHORT_LENGTH and "\n" not in text:
        return Shown(text=text)
    first = text.strip().splitlines()[0] if text.strip() else text
    return Shown(text=first[:SHORT_LENGTH].rstrip() + "…", full=text)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def show_value(name: str, value: Any) -> Shown | None:
    """``value`` of the field ``name`` in the reader's words, or None when it is empty."""
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        return Shown(text=_("yes") if value else _("no"))
    if name in _CODE_LABELS and isinstance(value, str):
        return Shown(text=label(_CODE_LABELS[name], value))
    if name in _SHARES and isinstance(value, int | float):
        return Shown(text=f"{_number(value * 100)}%")
    if isinstance(value, int | float):
        return Shown(text=_number(value))
    if name == "layer_range" and isinstance(value, list) and len(value) == 2:
        start, end = value
        return Shown(text=f"{_number(start * 100)}% – {_number(end * 100)}%")
    if name == "targeting" and isinstance(value, dict):
        words = _short(targeting_in_words(value))
        return Shown(
            text=words.text, full=json.dumps(value, ensure_ascii=False, indent=2), code=True
        )
    if name == "kinds" and isinstance(value, list):
        return Shown(text=", ".join(label(HISTORY_KIND_LABELS, str(v)) for v in value))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return Shown(text="", lines=tuple(value))
    if isinstance(value, str):
        return _short(value)
    compact = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(compact) <= SHORT_LENGTH:
        return Shown(text=compact)
    return Shown(
        text=compact[:SHORT_LENGTH].rstrip() + "…",
        full=json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2),
        code=True,
    )


def _shown(change: Change) -> ShownChange | None:
    name = next((n for n, is_key in reversed(_segments(change.path)) if not is_key), "")
    before = show_value(name, change.raw_before)
    after = show_value(name, change.raw_after)
    if before is None and after is None:
        return None
    return ShownChange(path=change.path, label=field_label(change.path), before=before, after=after)


def _message(message: str, after: dict[str, Any] | None) -> str:
    """The entry's note without the warnings it repeats (they are listed as a field)."""
    warnings = (after or {}).get("warnings")
    if isinstance(warnings, list) and warnings:
        repeated = " ".join(str(w) for w in warnings)
        if message.endswith(repeated):
            return message[: -len(repeated)].strip()
    return message


def audit_entry_view(
    *, action: str, message: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> EntryView:
    """One audit entry as the audit tab shows it (see the module's docstring)."""
    changes = [c for c in map(_shown, audit_changes(before, after)) if c is not None]
    return EntryView(
        action_label=label(ACTION_LABELS, action),
        message=_message(message, after),
        changes=changes,
        created=before is None and after is not None,
        folded=before is None and after is not None and len(changes) > FOLD_AFTER,
    )
