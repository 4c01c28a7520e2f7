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
  metric's ``name`` from its key).
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

__all__ = [
    "CONTRACT",
    "Contract",
    "Interval",
    "IsoTime",
    "Number",
    "adapter",
    "dataclass",
]


def _json_schema_extra(schema: dict[str, Any], cls: type) -> None:
    optional = set(getattr(cls, "OPTIONAL_KEYS", ()))
    if optional and "required" in schema:
        schema["required"] = [key for key in schema["required"] if key not in optional]


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

    @model_serializer(mode="wrap")
    def _without_omitted(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        for key in self.omitted():
            data.pop(key, None)
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


@functools.cache
def adapter(cls: type) -> TypeAdapter[Any]:
    """The pydantic adapter of a contract class (built once per class)."""
    return TypeAdapter(cls)


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _interval(value: Any) -> Any:
    if value is None:
        return None
    low, high = value
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return None
    return (low, high)


# A number that is finite or null.
Number = Annotated[float | None, AfterValidator(_finite)]
# An interval (low, high): a two-element list in the JSON; null when an end is missing.
Interval = Annotated[tuple[float, float] | None, BeforeValidator(_interval)]
# A timestamp in ISO 8601, kept as the text it was written as.
IsoTime = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
