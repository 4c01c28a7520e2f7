"""Text fields for API input that take JSON strings only.

DRF's ``CharField`` (and ``SlugField``, ``RegexField``) turn a number into text: ``"name": 0``
would be stored as ``"0"`` although the schema says ``type: string``. Every write serializer of
the API uses these instead, so a number, boolean, array or object for a text field answers 400
with the field's name. drf-spectacular documents them as the fields they extend (``string``,
with the slug or regex ``pattern``).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

__all__ = ["StrictCharField", "StrictRegexField", "StrictSlugField", "json_type"]


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, as a message names it ("a number", "an array")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _StringOnly:
    """Refuses anything but ``str`` before the field's own checks run."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            raise serializers.ValidationError(
                f"Must be a string, got {json_type(data)}.", code="invalid"
            )
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictCharField(_StringOnly, serializers.CharField):
    """A ``CharField`` that refuses non-string JSON values instead of converting them."""


class StrictSlugField(_StringOnly, serializers.SlugField):
    """A ``SlugField`` that refuses non-string JSON values (``"key": 1`` is not ``"1"``)."""


class StrictRegexField(_StringOnly, serializers.RegexField):
    """A ``RegexField`` that refuses non-string JSON values."""
