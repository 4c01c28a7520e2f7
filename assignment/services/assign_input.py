"""Validation of assign requests: every bad input becomes ``ValidationFailed`` (HTTP 400).

Hand-written rather than a DRF serializer because it runs on every assign call; the rules:

- ``unit_id``: required, a non-empty string (or an integer, used as its decimal string) of at
  most 256 characters, not only whitespace (``core.limits.is_identifier``, the events rule);
- ``attributes``: optional, a flat JSON object of at most 100 attributes: values are strings (at
  most 1,024 characters), numbers, booleans, null, or arrays of those (at most 100 items);
  nested objects are refused;
- ``experiments``: optional, a list of 1 to 100 experiment keys (strings of storable text);
  repeated keys are answered once; leave it out to get every live (running or paused) experiment;
- ``track``: optional boolean, default true; false assigns without recording exposures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.errors import ValidationFailed
from core.limits import MAX_UNIT_ID_LENGTH, is_identifier, storable_text
from experiments.targeting.jsvalues import number_to_string

__all__ = ["AssignRequest", "assign_query_parse", "assign_request_parse"]

MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_NAME = 128
MAX_STRING_VALUE = 1024
MAX_LIST_ITEMS = 100
MAX_EXPERIMENTS = 100
FIELDS = ("unit_id", "attributes", "experiments", "track")
RESERVED_QUERY = ("unit_id", "track")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class AssignRequest:
    unit_id: str
    attributes: dict[str, Any]
    keys: list[str] | None
    track: bool


def _unit_id(value: Any) -> str:
    if value is None:
        raise ValidationFailed({"unit_id": ["This field is required: the id of the unit."]})
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationFailed(
            {"unit_id": [f"Must be a string (or an integer), got {_type(value)}."]}
        )
    if is_identifier(value, MAX_UNIT_ID_LENGTH):
        return value
    if not value or value.isspace():
        raise ValidationFailed({"unit_id": ["Must not be empty or only whitespace."]})
    if len(value) > MAX_UNIT_ID_LENGTH:
        raise ValidationFailed(
            {"unit_id": [f"At most {MAX_UNIT_ID_LENGTH} characters (got {len(value)})."]}
        )
    raise ValidationFailed(
        {"unit_id": ["Must be valid Unicode text without NUL characters or lone surrogates."]}
    )


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _scalar_ok(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_STRING_VALUE and storable_text(value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, bool | int)


def _attributes(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed(
            {"attributes": [f"Must be a flat JSON object of attributes, got {_type(value)}."]}
        )
    if len(value) > MAX_ATTRIBUTES:
        raise ValidationFailed(
            {"attributes": [f"At most {MAX_ATTRIBUTES} attributes (got {len(value)})."]}
        )
    problems: list[str] = []
    for name, item in value.items():
        if not name or len(name) > MAX_ATTRIBUTE_NAME or not storable_text(name):
            problems.append(
                f"Attribute names must have 1 to {MAX_ATTRIBUTE_NAME} characters (valid text)."
            )
        elif isinstance(item, dict):
            problems.append(f'"{name}": nested objects are not allowed (attributes are flat).')
        elif isinstance(item, list):
            if len(item) > MAX_LIST_ITEMS or not all(
                _scalar_ok(x) and not isinstance(x, list) for x in item
            ):
                problems.append(
                    f'"{name}": an array must hold at most {MAX_LIST_ITEMS} strings, numbers, '
                    "booleans or nulls."
                )
        elif not _scalar_ok(item):
            problems.append(
                f'"{name}": must be a string of at most {MAX_STRING_VALUE} characters '
                "(valid text), a finite number, a boolean, null or an array of those."
            )
    if problems:
        raise ValidationFailed({"attributes": problems})
    return value


def _keys(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValidationFailed(
            {"experiments": [f"Must be a list of experiment keys, got {_type(value)}."]}
        )
    if not value:
        raise ValidationFailed(
            {"experiments": ["List at least one key, or leave the field out for all live ones."]}
        )
    if len(value) > MAX_EXPERIMENTS:
        raise ValidationFailed(
            {"experiments": [f"At most {MAX_EXPERIMENTS} experiments per call (got {len(value)})."]}
        )
    bad = [i for i, key in enumerate(value) if not isinstance(key, str) or not key]
    if bad:
        raise ValidationFailed(
            {"experiments": [f"Keys must be non-empty strings (item {bad[0]} is not)."]}
        )
    bad = [i for i, key in enumerate(value) if not storable_text(key)]
    if bad:
        raise ValidationFailed(
            {
                "experiments": [
                    f"Item {bad[0]} is not valid text (NUL characters and lone surrogates are "
                    "refused)."
                ]
            }
        )
    return list(dict.fromkeys(value))


def assign_request_parse(data: Any) -> AssignRequest:
    """Validate the JSON body of ``POST /api/v1/assign``."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            {"non_field_errors": [f"The body must be a JSON object, got {_type(data)}."]}
        )
    unknown = [name for name in data if name not in FIELDS]
    if unknown:
        raise ValidationFailed(
            {
                name: [f"Unknown field; the accepted fields are: {', '.join(FIELDS)}."]
                for name in unknown
            }
        )
    track = data.get("track", True)
    if not isinstance(track, bool):
        raise ValidationFailed({"track": [f"Must be true or false, got {_type(track)}."]})
    return AssignRequest(
        unit_id=_unit_id(data.get("unit_id")),
        attributes=_attributes(data.get("attributes")),
        keys=_keys(data.get("experiments")),
        track=track,
    )


def coerce_query_value(text: str) -> Any:
    """A query-string value as a JSON value: ``true``/``false`` become booleans, and a number
    written the way JavaScript prints it (``42``, ``-3``, ``1.5``, not ``007`` or ``1.50``)
    becomes a number, so targeting compares it numerically and a numeric unit attribute hashes
    the same as in the POST form. Everything else stays a string."""
    if text == "true":
        return True
    if text == "false":
        return False
    if _NUMBER.fullmatch(text):
        number: int | float = int(text) if "." not in text else float(text)
        if number_to_string(number) == text:
            return number
    return text


def assign_query_parse(items: Iterable[tuple[str, list[str]]]) -> AssignRequest:
    """Validate the query of ``GET /api/v1/assign/<key>``: ``unit_id``, optional ``track``, and
    every other parameter an attribute (repeated parameters become an array)."""
    unit_id: Any = None
    track = True
    attributes: dict[str, Any] = {}
    for name, values in items:
        if name == "unit_id":
            if len(values) != 1:
                raise ValidationFailed({"unit_id": ["Give unit_id once."]})
            unit_id = values[0]
        elif name == "track":
            if len(values) != 1 or values[0] not in ("true", "false"):
                raise ValidationFailed({"track": ["Must be true or false."]})
            track = values[0] == "true"
        elif len(values) == 1:
            attributes[name] = coerce_query_value(values[0])
        else:
            attributes[name] = [coerce_query_value(v) for v in values]
    return AssignRequest(
        unit_id=_unit_id(unit_id), attributes=_attributes(attributes), keys=None, track=track
    )
