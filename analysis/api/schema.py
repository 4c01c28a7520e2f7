"""The OpenAPI components of the result endpoints, generated from the contract's classes.

A contract class (``analysis.engine.contract.model.Contract``) given to ``extend_schema`` is a
response body: its JSON Schema comes from pydantic, from the same fields that write the
stored JSON, turned into OpenAPI 3.0's dialect (``nullable`` rather than a null type, one
``items`` schema for a two-number interval), and every nested class becomes a component of
its own. ``COMPONENT_NAMES`` keeps the component names the API has always had where a class
is named otherwise.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent

from analysis.engine.contract.model import Contract

REF = "#/components/schemas/"

# Class name -> component name, where they differ.
COMPONENT_NAMES = {
    "UnitsResult": "Units",
    "BreakerResult": "Breaker",
    "DecisionInWords": "Decision",
    "HealthCheckInWords": "HealthCheck",
}


def component_name(cls_name: str) -> str:
    """The OpenAPI component a contract class is served as."""
    return COMPONENT_NAMES.get(cls_name, cls_name)


# Keywords whose value maps names to schemas (the names are not keywords).
_NAMED = ("properties", "$defs")


def _openapi30(node: Any) -> Any:
    """A JSON Schema node from pydantic in OpenAPI 3.0's dialect (no titles or defaults)."""
    if isinstance(node, list):
        return [_openapi30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: ({n: _openapi30(s) for n, s in v.items()} if k in _NAMED else _openapi30(v))
        for k, v in node.items()
        if k not in ("title", "default")
    }
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF):
        out["$ref"] = REF + component_name(ref[len(REF) :])
    options = out.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del out["anyOf"]
        if len(rest) == 1 and "$ref" in rest[0]:
            out = {"allOf": rest, **out}
        elif len(rest) == 1:
            out = {**rest[0], **out}
        else:
            out["anyOf"] = rest
        out["nullable"] = True
    if "$ref" in out and len(out) > 1:
        # OpenAPI 3.0 ignores a reference's siblings (its description, nullable).
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    prefix = out.pop("prefixItems", None)
    if prefix:
        out["items"] = prefix[0]
    if out.get("type") == "number":
        out.setdefault("format", "double")
    if out.get("nullable") and "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def openapi_schema(cls: type[Contract]) -> dict[str, Any]:
    """The OpenAPI 3.0 schema of ``cls``'s JSON, with its nested classes under ``$defs`` by
    component name."""
    schema = cls.json_schema(ref_template=REF + "{model}")
    defs = {component_name(name): _openapi30(sub) for name, sub in schema.pop("$defs", {}).items()}
    out: dict[str, Any] = _openapi30(schema)
    if defs:
        out["$defs"] = defs
    return out


class ContractSchemaExtension(OpenApiSerializerExtension):
    """Lets ``extend_schema(responses=...)`` take a contract class as a response body."""

    target_class = Contract
    match_subclasses = True

    def get_name(self, auto_schema: Any, direction: str) -> str:
        return component_name(self.target.__name__)

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = openapi_schema(self.target)
        for name, sub in schema.pop("$defs", {}).items():
            auto_schema.registry.register_on_missing(
                ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=sub)
            )
        return schema
