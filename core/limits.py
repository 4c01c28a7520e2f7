"""Input limits every door applies the same way: identifiers, event names, numbers and text.

The API, the admin, the web forms and the runtime endpoints all check input against these, and
the models size their columns from them, so a value accepted anywhere can be stored everywhere
and can be summed by every later refresh.

- Identifiers (``unit_id``, ``event_id``): non-empty strings of storable text that are not only
  whitespace (``is_identifier``); the same rule for events and assign.
- Numbers ingested for analysis (an event's ``value`` and numeric ``properties``): finite
  doubles of absolute value at most ``MAX_ABS_NUMBER`` (1e15), so sums and sums of squares of
  any number of stored rows stay finite in double precision (``is_bounded_number``).
- JSON values written to the control plane (a variant's payload, targeting, a data source's
  options, any field of a request body): nested at most ``MAX_JSON_DEPTH`` (32) levels of
  arrays and objects (``json_depth_exceeds``), so every later reader (the SDK payload, the
  targeting evaluator, the database's JSON encoder) handles them without deep recursion.
- Variant weights: numbers above 0 and at most ``MAX_WEIGHT`` (1e6) (``is_weight``). Their sum
  stays finite, so the weights normalised for the SDK payload (``weight / sum``) are the very
  fractions ``/assign`` splits units by.
"""

from __future__ import annotations

import re
from typing import Any

MAX_UNIT_ID_LENGTH = 256
MAX_EVENT_NAME_LENGTH = 64
EVENT_NAME_PATTERN = "^[a-z0-9_.:-]{1,64}$"
EVENT_NAME_HELP = "1-64 of a-z, 0-9, _ . : -"

# The largest value of a PositiveIntegerField column (PostgreSQL integer).
MAX_STORED_INT = 2**31 - 1

# Largest absolute value of an ingested number: money in minor units up to a quadrillion; a
# square is at most 1e30, so about 1e278 such rows fit in a double sum.
MAX_ABS_NUMBER = 1e15
MAX_ABS_NUMBER_TEXT = "1e15"

# Deepest nesting of arrays and objects in a JSON value written to the control plane:
# ``{}`` and ``[1]`` are 1 level, ``{"a": [1]}`` is 2.
MAX_JSON_DEPTH = 32

# Variant weights are relative: each above 0 and at most this, so that any number of them
# sums to a finite double.
MAX_WEIGHT = 1e6
MAX_WEIGHT_TEXT = "1e6"

_EVENT_NAME = re.compile(r"[a-z0-9_.:-]{1,64}")


def is_event_name(value: object) -> bool:
    """Whether ``value`` is a valid event name (``EVENT_NAME_PATTERN``)."""
    return type(value) is str and _EVENT_NAME.fullmatch(value) is not None


def storable_text(text: str) -> bool:
    """Whether PostgreSQL can store ``text``: no NUL character, valid UTF-8 (no lone surrogate)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_identifier(value: object, max_length: int) -> bool:
    """Whether ``value`` is a usable identifier: a string of 1..``max_length`` characters that
    is not only whitespace and can be stored (``storable_text``)."""
    if type(value) is not str or not 0 < len(value) <= max_length:
        return False
    if value.isspace():
        return False
    return storable_text(value)


def is_bounded_number(value: object) -> bool:
    """Whether ``value`` is a JSON number (not a boolean) that is a finite double of absolute
    value at most ``MAX_ABS_NUMBER``. Integers beyond the double range are refused."""
    kind = type(value)
    if kind is int:
        return -MAX_ABS_NUMBER <= value <= MAX_ABS_NUMBER  # exact comparison, no overflow
    if kind is float:
        return -MAX_ABS_NUMBER <= value <= MAX_ABS_NUMBER  # NaN compares false
    return False


def json_depth_exceeds(value: object, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` (parsed JSON) nests arrays and objects more than ``max_depth`` levels
    deep. Iterative, so a value of any depth is measured without recursion; stops at the
    first container found too deep."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > max_depth:
            return True
        stack.extend((child, depth) for child in children if isinstance(child, dict | list | tuple))
    return False


def is_weight(value: object) -> bool:
    """Whether ``value`` is a usable variant weight: a number (not a boolean) above 0 and at
    most ``MAX_WEIGHT`` (NaN and infinities are not)."""
    kind = type(value)
    if kind is not int and kind is not float:
        return False
    return 0 < value <= MAX_WEIGHT  # type: ignore[operator]
