"""JSON input with bounded nesting: the API's body parser and the web forms' JSON loader.

Python's JSON parser recurses once per level of arrays and objects, and so do the encoders and
the code that reads a value later, so a body nested a thousand levels deep would fail with a
``RecursionError`` (a 500) wherever it went first. Every JSON value written to the control plane
is therefore nested at most ``MAX_JSON_DEPTH`` levels (``core.limits``), checked once, where the
text is parsed:

- ``BoundedJSONParser``, the API's default JSON parser, refuses a body with a field nested
  deeper with a 400 naming the field (``{"variants[0].payload": ["Nested more than 32 levels
  deep."]}``), also when the body is so deep that the parser itself cannot read it.
- ``json_loads`` is ``json.loads`` for a form's JSON text: it raises ``JsonTooDeep`` (a
  ``ValueError``) instead, which the form shows next to its field.
- ``BoundedJSONFormField`` is Django's form ``JSONField`` (the admin's JSON boxes) with the same
  rule: a message on the field, not a ``RecursionError``.

A *field* of a body is a value of the top-level object, or, for a list of objects (``variants``,
``metrics``), a value of one of its objects; its path is the one the API's 400 answers use
(``targeting``, ``variants[1].payload``). Other items of a list are measured with the list.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext
from rest_framework import parsers, serializers

from core.limits import MAX_JSON_DEPTH, json_depth_exceeds

__all__ = [
    "BoundedJSONFormField",
    "BoundedJSONParser",
    "JsonTooDeep",
    "json_loads",
    "too_deep_fields",
    "too_deep_message",
]

NON_FIELD = "non_field_errors"


def too_deep_message() -> str:
    """``Nested more than 32 levels deep.``, in the active language."""
    text = gettext("nested more than %(depth)s levels deep") % {"depth": MAX_JSON_DEPTH}
    return f"{capfirst(text)}."


class JsonTooDeep(ValueError):
    """JSON text whose value nests arrays and objects more than ``MAX_JSON_DEPTH`` levels."""

    def __init__(self) -> None:
        super().__init__(too_deep_message())


def json_loads(text: str | bytes) -> Any:
    """``json.loads(text)``, raising ``JsonTooDeep`` for a value nested more than
    ``MAX_JSON_DEPTH`` levels (however deep: the parser's own ``RecursionError`` included)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep() from None
    if json_depth_exceeds(value):
        raise JsonTooDeep()
    return value


def _fields(body: Any) -> Iterator[tuple[str, Any]]:
    """Each field of a parsed body with its path (see the module's docstring)."""
    if not isinstance(body, dict):
        yield NON_FIELD, body
        return
    for key, value in body.items():
        if not isinstance(value, list):
            yield str(key), value
            continue
        rest = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                for name, inner in item.items():
                    yield f"{key}[{i}].{name}", inner
            else:
                rest.append(item)
        if rest:
            yield str(key), rest  # a list of values: measured as the list it is


def too_deep_fields(body: Any) -> list[str]:
    """The paths of the fields of a parsed body nested more than ``MAX_JSON_DEPTH`` levels."""
    return [path for path, value in _fields(body) if json_depth_exceeds(value)]


# Strings (with their escapes) and the structural characters of JSON text; numbers, literals
# and white space are not needed to follow the nesting.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:,]', re.S)


def _frame_path(frames: list[list[Any]]) -> tuple[str, int]:
    """The field path of the innermost open container, and how deep that field's value nests
    there. ``frames`` are the open containers, outermost first: ``[is_object, key or index]``."""
    body_is_object, key = frames[0]
    if not body_is_object or key is None or len(frames) < 2:
        return NON_FIELD, len(frames)
    index = frames[1][1]
    if not frames[1][0] and len(frames) >= 3 and frames[2][0] and frames[2][1] is not None:
        return f"{key}[{index}].{frames[2][1]}", len(frames) - 3  # a field of a list's object
    return str(key), len(frames) - 1


def too_deep_field_in_text(text: str) -> str:
    """The path of the first field of JSON ``text`` nested more than ``MAX_JSON_DEPTH`` levels,
    read without building the value (for text too deep to parse); ``non_field_errors`` when
    none is found (the text is then not JSON at all)."""
    frames: list[list[Any]] = []
    last_string = ""
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token == "{" or token == "[":
            frames.append([token == "{", None if token == "{" else 0])
            path, depth = _frame_path(frames)
            if depth > MAX_JSON_DEPTH:
                return path
        elif token == "}" or token == "]":
            if not frames:
                break
            frames.pop()
        elif token == ",":
            if frames and not frames[-1][0]:
                frames[-1][1] += 1
        elif token == ":":
            if frames and frames[-1][0]:
                try:
                    frames[-1][1] = json.loads(last_string)
                except ValueError:
                    frames[-1][1] = last_string.strip('"')
        else:
            last_string = token
    return NON_FIELD


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, with every field nested at most ``MAX_JSON_DEPTH`` levels: deeper
    input answers 400 ``{"<field path>": ["Nested more than 32 levels deep."]}`` and is never
    handed to a view."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        body = stream.read()
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            encoding = parsers.get_encoding(parser_context or {})
            path = too_deep_field_in_text(body.decode(encoding, errors="replace"))
            raise serializers.ValidationError({path: [too_deep_message()]}) from None
        deep = too_deep_fields(data)
        if deep:
            raise serializers.ValidationError({path: [too_deep_message()] for path in deep})
        return data


class BoundedJSONFormField(forms.JSONField):
    """Django's form ``JSONField`` for values nested at most ``MAX_JSON_DEPTH`` levels."""

    def _too_deep(self, value: Any) -> bool:
        if not isinstance(value, str):
            return json_depth_exceeds(value)
        try:
            json_loads(value)
        except JsonTooDeep:
            return True
        except ValueError:
            return False  # not JSON: Django's own message
        return False

    def to_python(self, value: Any) -> Any:
        if not self.disabled and value not in self.empty_values and self._too_deep(value):
            raise forms.ValidationError(too_deep_message(), code="too_deep")
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        if not self.disabled and data is not None and self._too_deep(data):
            return forms.fields.InvalidJSONInput(data)  # shown back as typed
        return super().bound_data(data, initial)
