"""Fields for API input: text that takes JSON strings only, JSON values of bounded depth, and
nested objects that are whole in a PATCH too.

DRF's ``CharField`` (and ``SlugField``, ``RegexField``) turn a number into text: ``"name": 0``
would be stored as ``"0"`` although the schema says ``type: string``. Every write serializer of
the API uses these instead, so a number, boolean, array or object for a text field answers 400
with the field's name. Likewise for numbers and booleans: DRF takes ``"1.5"`` for a number and
``"yes"`` or ``0`` for a boolean, the schema does not; ``StrictFloatField``,
``StrictIntegerField`` and ``StrictBooleanField`` take the JSON type only (a web form, whose
inputs are text, passes ``context={"form_text": True}`` to have numbers read from text).
drf-spectacular documents them as the fields they extend (``string``, with the slug or regex
``pattern``).

``BoundedJSONField`` is a free-form JSON value nested at most ``MAX_JSON_DEPTH`` levels
(``core.limits``); ``JSONObjectField`` also requires an object. The API's body parser
(``core.json_input``) already refuses deeper bodies; these fields hold the same rule for input
that reaches a serializer another way (the web forms).

``WholeInPatch`` makes a nested serializer (an item of ``variants``, a ratio part) keep its
required fields in a partial update: DRF skips every missing field once the root serializer is
``partial``, so ``PATCH {"metrics": [{"role": "primary"}]}`` would pass a link without its
metric. A nested item given in a PATCH replaces the stored one, so it must be complete.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from core.json_input import too_deep_message
from core.limits import MAX_JSON_DEPTH, json_depth_exceeds

__all__ = [
    "BoundedJSONField",
    "ClosedSerializer",
    "JSONObjectField",
    "StrictBooleanField",
    "StrictCharField",
    "StrictFloatField",
    "StrictIntegerField",
    "StrictRegexField",
    "StrictSlugField",
    "WholeInPatch",
    "json_type",
]


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


class StrictBooleanField(serializers.BooleanField):
    """A ``BooleanField`` that takes JSON ``true`` and ``false`` only (not ``"yes"``, ``1``)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, bool):
            raise serializers.ValidationError(
                f"Must be true or false, got {json_type(data)}.", code="invalid"
            )
        return data


class StrictFloatField(serializers.FloatField):
    """A ``FloatField`` that takes JSON numbers only (not ``"1.5"``, not booleans)."""

    def to_internal_value(self, data: Any) -> Any:
        from_text = isinstance(data, str) and self.context.get("form_text")
        if not from_text and (isinstance(data, bool) or not isinstance(data, int | float)):
            raise serializers.ValidationError(
                f"Must be a number, got {json_type(data)}.", code="invalid"
            )
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An ``IntegerField`` that takes JSON whole numbers only (not ``"5"``, ``5.5``, ``true``)."""

    def to_internal_value(self, data: Any) -> Any:
        from_text = isinstance(data, str) and self.context.get("form_text")
        if not from_text and (isinstance(data, bool) or not isinstance(data, int)):
            raise serializers.ValidationError(
                f"Must be a whole number, got {json_type(data)}.", code="invalid"
            )
        return super().to_internal_value(data)


class StrictCharField(_StringOnly, serializers.CharField):
    """A ``CharField`` that refuses non-string JSON values instead of converting them. Unless
    it allows blanks, text of white space only is blank, whether or not it is trimmed."""

    def run_validation(self, data: Any = empty) -> Any:
        if isinstance(data, str) and data and not self.allow_blank and data.isspace():
            self.fail("blank")
        return super().run_validation(data)


class _Untrimmed:
    """Text matched against a pattern as sent: the schema's pattern (a slug's
    ``^[-a-zA-Z0-9_]+$``) has no room for the white space DRF would trim."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]


class StrictSlugField(_Untrimmed, _StringOnly, serializers.SlugField):
    """A ``SlugField`` that refuses non-string JSON values (``"key": 1`` is not ``"1"``) and
    padded text (``" key "``)."""


class StrictRegexField(_Untrimmed, _StringOnly, serializers.RegexField):
    """A ``RegexField`` that refuses non-string JSON values and padded text."""


class BoundedJSONField(serializers.JSONField):
    """Any JSON value nested at most ``MAX_JSON_DEPTH`` levels of arrays and objects."""

    def to_internal_value(self, data: Any) -> Any:
        if json_depth_exceeds(data):
            raise serializers.ValidationError(too_deep_message(), code="too_deep")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": f"A JSON object nested at most {MAX_JSON_DEPTH} levels deep.",
    }
)
class JSONObjectField(BoundedJSONField):
    """A JSON object (not a list, string or number) nested at most ``MAX_JSON_DEPTH`` levels."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("Expected a JSON object.", code="invalid")
        return value


# A request body that refuses fields it does not know (400 ``{"name": ["Unknown field."]}``)
# instead of ignoring them; ``not_writable`` gives some names a message of their own. The schema
# says so (``additionalProperties: false``, ``core.schema``). (Comments, not a docstring:
# drf-spectacular would show a docstring as each subclass's description.)
class ClosedSerializer(serializers.Serializer):
    not_writable: dict[str, str] = {}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [self.not_writable.get(name, "Unknown field.")] for name in unknown}
                )
        return super().to_internal_value(data)


# A nested serializer whose required fields stay required when the root is partial. (A comment,
# not a docstring: drf-spectacular would show a docstring as each subclass's description.)
class WholeInPatch(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        missing: dict[str, list[serializers.ErrorDetail]] = {}
        if getattr(self.root, "partial", False) and isinstance(data, dict):
            for field in self._writable_fields:
                if field.required and field.get_value(data) is empty:
                    message = field.error_messages["required"]
                    missing[field.field_name] = [serializers.ErrorDetail(message, code="required")]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if missing and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**missing, **exc.detail}) from None
            raise
        if missing:
            raise serializers.ValidationError(missing)
        return value
