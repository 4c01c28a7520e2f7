"""One definition per contract type: its JSON, reading that JSON back and its JSON schema.

Every class of the contract (snapshot inputs, plan, results) is a frozen pydantic dataclass
that derives from ``Contract``. Its fields are the definition: ``to_dict()`` writes the JSON a
snapshot stores (and the API serves), ``from_dict()`` reads it back, and ``json_schema()`` is
the JSON Schema the API's OpenAPI components are generated from (``analysis.api.schema``). No
class writes its own conversion.

The rules every class shares:

- numbers are finite: NaN and infinities become null (``Number``), when an object is made and
  so in the JSON too;
- intervals are two-element lists in the JSON and tuples in Python (``Interval``); an
  interval with a missing or infinite end is null;
- keys a reader does not know are ignored, so results written with more keys still read;
- a class names the keys its JSON may leave out (``OPTIONAL_KEYS``; the schema does not
  require them) and which ones this object leaves out (``omitted``); every other field is
  always written;
- ``DEFAULTS_FROM`` fills a missing or empty key from another key of the same object (a
  metric's ``name`` from its key);
- keys are written in the fields' order, computed keys (``computed_field``) last, unless the
  class gives a ``KEY_ORDER``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic.dataclasses import dataclass

from core.caches import function_cache_register

__all__ = [
    "CONTRACT",
    "Contract",
    "Interval",
    "IsoTime",
    "Number",
    "adapter",
    "dataclass",
    "never_null",
    "or_default",
]


def _json_schema_extra(schema: dict[str, Any], cls: type) -> None:
    optional = set(getattr(cls, "OPTIONAL_KEYS", ()))
    if optional and "required" in schema:
        schema["required"] = [key for key in schema["required"] if key not in optional]
    order = getattr(cls, "KEY_ORDER", ())
    if order and "properties" in schema:
        properties = schema["properties"]
        first = {key: properties.pop(key) for key in order if key in properties}
        schema["properties"] = {**first, **properties}


# The configuration of every contract dataclass: in the schema, a field is required unless
# its class lists it in OPTIONAL_KEYS (defaults are written too).
CONTRACT = ConfigDict(
    extra="ignore",
    json_schema_serialization_defaults_required=True,
    json_schema_extra=_json_schema_extra,
)


class Contract:
    """The base of every contract dataclass (``@dataclass(frozen=True, config=CONTRACT)``)."""

    # Keys this class's JSON may leave out; ``omitted`` says which ones an object does.
    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ()
    # A missing or empty key -> the key of the same object it is read from.
    DEFAULTS_FROM: ClassVar[Mapping[str, str]] = {}
    # The JSON's key order when it is not the fields' order (computed keys placed among the
    # fields, as results were always stored).
    KEY_ORDER: ClassVar[tuple[str, ...]] = ()

    def omitted(self) -> Iterable[str]:
        """The keys (from ``OPTIONAL_KEYS``) left out of this object's JSON."""
        return ()

    @model_validator(mode="before")
    @classmethod
    def _defaults_from(cls, data: Any) -> Any:
        if cls.DEFAULTS_FROM and isinstance(data, Mapping):
            filled = {
                key: data[source]
                for key, source in cls.DEFAULTS_FROM.items()
                if not data.get(key) and source in data
            }
            if filled:
                return {**data, **filled}
        return data

    # No return annotation: with one, pydantic would take the schema of ``to_dict`` output
    # from it (a bare object) instead of from the fields.
    @model_serializer(mode="wrap")
    def _without_omitted(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # noqa: ANN202
        data: dict[str, Any] = handler(self)
        for key in self.omitted():
            data.pop(key, None)
        if self.KEY_ORDER:
            ordered = {key: data.pop(key) for key in self.KEY_ORDER if key in data}
            data = {**ordered, **data}
        return data

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON values (what a snapshot stores)."""
        return adapter(type(self)).dump_python(self, mode="json")  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read ``to_dict`` output; raises ``pydantic.ValidationError`` (a ``ValueError``)
        naming the field when the data do not fit."""
        return adapter(cls).validate_python(data)  # type: ignore[no-any-return]

    @classmethod
    def json_schema(cls, *, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
        """The JSON Schema (2020-12) of ``to_dict`` output, nested classes in ``$defs``."""
        return adapter(cls).json_schema(mode="serialization", ref_template=ref_template)


@functools.lru_cache(maxsize=128)
def adapter(cls: type) -> TypeAdapter[Any]:
    """The pydantic adapter of a contract class (built once per class)."""
    return TypeAdapter(cls)


# One entry per contract class (a few dozen): the adapter shares the class's own validator
# and serializer, so an entry is a small object (measured under 1 KiB).
function_cache_register(
    adapter,
    name="contract adapters",
    holds="pydantic adapter per contract class",
    max_entry_bytes=1024,
)


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _interval(value: Any) -> Any:
    if value is None:
        return None
    low, high = value
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    return (low, high)


def never_null(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of an optional field that is left out rather than written as
    null (``omitted``): its schema does not allow null."""
    options = schema.pop("anyOf", None)
    if options:
        schema.update(next(o for o in options if o != {"type": "null"}))


def or_default(default: Any) -> BeforeValidator:
    """Read null (or a missing value passed as null) as ``default``: ``{}``, ``()``, 0, ..."""
    return BeforeValidator(lambda value: default if value is None else value)


# A number that is finite or null.
Number = Annotated[float | None, AfterValidator(_finite)]
# An interval (low, high): a two-element list in the JSON; null when an end is missing.
Interval = Annotated[tuple[float, float] | None, BeforeValidator(_interval)]
# A timestamp in ISO 8601, kept as the text it was written as.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
