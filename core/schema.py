"""OpenAPI descriptions shared by every API: the bearer API-key scheme and the error shapes.

Loaded by ``CoreConfig.ready`` so the extensions are registered before a schema is generated:

- ``ApiKeyScheme`` documents ``core.auth.ApiKeyAuthentication`` as the HTTP bearer scheme
  ``apiKeyAuth``; every operation lists it, and Swagger UI's "Authorize" dialog then sends
  ``Authorization: Bearer <key>``.
- ``ValidationErrors`` is the 400 (and 409) body ``{"field": ["message", ...]}`` that
  ``core.api_errors.exception_handler`` answers; ``ErrorDetail`` is DRF's ``{"detail": "..."}``
  for 401, 403, 404 and unparseable bodies. Views list the errors they can answer with
  ``error_responses(...)``; ``add_auth_errors`` (the postprocessing hook) adds the answers a
  middleware can give before any view runs: 401 and 403 and 429 (``Retry-After``: rate limits,
  ``core.throttling``) to every operation that takes an API key, and 413 (``core.body_limits``)
  to every operation with a request body.
- Nested input is reported by field path (``variants[1].weight``): ``core.api_errors`` flattens
  DRF's nested errors, so every 400 body is the one ``ValidationErrors`` map.
- ``ClosedRequestSchema`` closes the request bodies whose serializer refuses unknown fields
  (``additionalProperties: false``).
- ``TextInputSchema`` gives every text field of a request body the ``pattern`` the server
  holds it to: DRF refuses a NUL character in any text, and a blank text (empty, or only white
  space, which is trimmed) where the field does not allow blanks. Fields with a pattern of their
  own (slugs, event names) keep it; those patterns exclude both already.
"""

from __future__ import annotations

from typing import Any

from django.core import validators
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from core.api_fields import StrictCharField

API_KEY_SCHEME = "apiKeyAuth"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiKeyAuthentication"
    name = API_KEY_SCHEME
    match_subclasses = True

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.keyword
        )
        scheme["description"] = (
            "An API key from `manage.py create_api_key` (`vk_...`), sent as "
            "`Authorization: Bearer <key>`. Roles: admin and editor write, viewer reads, app "
            "calls only assign and events."
        )
        return scheme


# Text without a NUL character that is not empty; that is also not only white space (trimmed
# away, leaving a blank). A field that allows blanks is drawn by drf-spectacular as one of its
# pattern or the empty string, so its pattern leaves the empty string out.
NOT_EMPTY_PATTERN = r"^[^\u0000]+$"
NOT_BLANK_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


def text_pattern(field: serializers.CharField) -> str | None:
    """The pattern a request's text for ``field`` must match, or None when the field has one of
    its own (a regex validator: slugs, event names) or a format (e-mail, URL)."""
    if any(isinstance(v, validators.RegexValidator) for v in field.validators):
        return None
    if isinstance(field, serializers.EmailField | serializers.URLField | serializers.RegexField):
        return None
    if field.allow_blank:
        return NOT_EMPTY_PATTERN
    if field.trim_whitespace or isinstance(field, StrictCharField):
        return NOT_BLANK_PATTERN
    return NOT_EMPTY_PATTERN


class TextInputSchema(OpenApiSerializerFieldExtension):
    """Request text fields with their ``pattern`` (``text_pattern``); answers are unchanged."""

    target_class = "rest_framework.fields.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        pattern = text_pattern(self.target) if direction == "request" else None
        if pattern and isinstance(schema, dict) and schema.get("type") == "string":
            schema.setdefault("pattern", pattern)
        return schema


class ClosedRequestSchema(OpenApiSerializerExtension):
    """Request bodies of a ``ClosedSerializer`` with ``additionalProperties: false``: the server
    refuses fields it does not know."""

    target_class = "core.api_fields.ClosedSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


class ErrorDetail(serializers.Serializer):
    """``{"detail": "..."}``: authentication, permission, not found, or a body that is not JSON."""

    detail = serializers.CharField()


class ValidationErrors(serializers.Serializer):
    """``{"field": ["message", ...]}``: each field path (``variants[1].weight``,
    ``non_field_errors``) with its messages. Documentation only; see ``ValidationErrorsSchema``."""


class ValidationErrorsSchema(OpenApiSerializerExtension):
    target_class = ValidationErrors

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {
            "type": "object",
            "description": (
                "Messages per field path; `non_field_errors` holds messages about the whole "
                "request."
            ),
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {
                "variants[1].weight": ['Variant "b" has weight 0; weights must be positive.']
            },
        }


_BAD_REQUEST = PolymorphicProxySerializer(
    component_name="BadRequest",
    serializers=[ValidationErrors, ErrorDetail],
    resource_type_field_name=None,
)

ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(
        _BAD_REQUEST,
        description=(
            'Invalid input: `{"field": ["message"]}` per field path. A body that is not JSON '
            'answers `{"detail": "..."}`. Nothing is stored.'
        ),
    ),
    404: OpenApiResponse(ErrorDetail, description="No object with that key."),
    409: OpenApiResponse(
        ValidationErrors,
        description=(
            "The experiment's status does not allow this action; the message names the actions "
            'allowed now: `{"status": ["Cannot pause an experiment that is draft. Allowed now: '
            'start, archive."]}`.'
        ),
    ),
}

AUTH_RESPONSES: dict[str, dict[str, Any]] = {
    "401": {"description": "No API key or session, or an unknown or revoked key."},
    "403": {"description": "This key's role (or this user) may not call this operation."},
    "429": {
        "description": (
            "Over a rate limit (`core.throttling`): this client address sent too many refused "
            "credentials (`VERDICT_AUTH_FAILURE_RATE`), or, on assign, events and exposures, "
            "this API key made more than `VERDICT_RUNTIME_KEY_RATE` calls. Retry after the "
            "`Retry-After` seconds."
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds until the limit's window ends.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    },
}
TOO_LARGE_RESPONSE: dict[str, Any] = {
    "description": (
        "The request body is over this endpoint's limit (`DATA_UPLOAD_MAX_MEMORY_SIZE`, 2.5 MB "
        "by default; 20 MB for event and exposure batches); nothing was read or stored."
    ),
}


def bad_request(description: str) -> OpenApiResponse:
    """A 400 answer of either documented shape (field messages, or ``detail`` for a body that
    is not JSON), described for one operation."""
    return OpenApiResponse(_BAD_REQUEST, description=description)


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error answers for ``codes`` (400, 404, 409), for ``extend_schema``."""
    return {code: ERROR_RESPONSES[code] for code in codes}


def add_auth_errors(
    result: dict[str, Any], generator: Any, request: Any, public: bool, **kwargs: Any
) -> dict[str, Any]:
    """Postprocessing hook: the answers middleware gives before the view, as ``ErrorDetail``:
    401, 403 and 429 on every operation taking an API key, 413 on every one with a body."""
    detail_ref = {"$ref": "#/components/schemas/ErrorDetail"}
    used = False
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if "requestBody" in operation:
                operation["responses"].setdefault(
                    "413",
                    {**TOO_LARGE_RESPONSE, "content": {"application/json": {"schema": detail_ref}}},
                )
                used = True
            schemes = {name for entry in operation.get("security", []) for name in entry}
            if API_KEY_SCHEME not in schemes:
                continue
            for code, response in AUTH_RESPONSES.items():
                operation["responses"].setdefault(
                    code,
                    {**response, "content": {"application/json": {"schema": detail_ref}}},
                )
                used = True
    if used:
        schemas = result.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(
            "ErrorDetail",
            {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            },
        )
    return result
