"""``POST /api/v1/events``: apps report conversion events in idempotent batches.

The view only parses the body and calls ``assignment.services.events.events_ingest``. The body
is parsed with ``json.loads`` straight from the request stream (any content type), under a size
cap larger than Django's form-upload limit, since a full batch of 1000 events with 8 KB of
properties each is legitimately several megabytes.
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assignment.services.event_validation import MAX_EVENT_ID_LENGTH, MAX_PROPERTIES_BYTES
from assignment.services.events import MAX_BATCH_EVENTS, BatchTooLarge, events_ingest
from core.limits import EVENT_NAME_PATTERN, MAX_UNIT_ID_LENGTH
from core.permissions import RuntimePermission
from core.schema import ErrorDetail, ValidationErrors

MAX_BODY_BYTES = 20 * 1024 * 1024


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = (
        f"Request body over {MAX_BODY_BYTES // (1024 * 1024)} MB; send smaller batches."
    )
    default_code = "body_too_large"


class EventBatchParser(parsers.BaseParser):
    """JSON from the raw stream with ``json.loads``; any content type; capped size."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        body = stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge()
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from None


_EXAMPLE = {
    "sent_at": "2024-05-01T12:00:05Z",
    "events": [
        {
            "event_id": "0b9f3c1e-6c55-4a0e-9d5e-1f1f3b8f6a10",
            "unit_id": "user-42",
            "event": "purchase",
            "timestamp": "2024-05-01T12:00:00Z",
            "value": 29.0,
            "properties": {"currency": "EUR", "order_id": "A-1001"},
        }
    ],
}


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": {
            "nullable": True,
            "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
        },
        "description": (
            "A flat object of strings, finite numbers, booleans or null; at most "
            f"{MAX_PROPERTIES_BYTES} bytes as compact UTF-8 JSON."
        ),
    }
)
class PropertiesField(serializers.Field):
    """Documents an event's ``properties``; ``event_validate`` checks them."""


class EventInput(serializers.Serializer):
    """One event (documentation; ``event_validate`` checks each item and rejects it by index)."""

    event_id = serializers.CharField(
        min_length=1,
        max_length=MAX_EVENT_ID_LENGTH,
        help_text="Chosen by the client once per event (a UUID); a resent id is a duplicate.",
    )
    unit_id = serializers.CharField(
        min_length=1, max_length=MAX_UNIT_ID_LENGTH, help_text="The id the app passes to assign."
    )
    event = serializers.RegexField(
        EVENT_NAME_PATTERN, help_text="The event name, e.g. purchase or checkout.completed."
    )
    timestamp = serializers.DateTimeField(
        help_text=(
            "When it happened, by the client's clock, with a zone (Z or +08:00); within 90 days "
            "before and 24 hours after receipt, after clock-skew correction."
        )
    )
    value = serializers.FloatField(
        required=False, allow_null=True, help_text="A finite number, e.g. revenue."
    )
    properties = PropertiesField(required=False)


class EventBatchInput(serializers.Serializer):
    """The body of POST /api/v1/events (documentation; ``events_ingest`` validates)."""

    events = serializers.ListField(child=EventInput(), min_length=1, max_length=MAX_BATCH_EVENTS)
    sent_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=(
            "The client's clock when it sent the batch, with a zone; event times are corrected "
            "by the difference to the server's clock."
        ),
    )


class EventBatchOutput(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored by this request.")
    duplicates = serializers.IntegerField(
        help_text="Events whose event_id was already stored (or repeated in this batch)."
    )
    rejected = inline_serializer(
        name="EventRejection",
        fields={
            "index": serializers.IntegerField(help_text="0-based position in events."),
            "reason": serializers.CharField(),
        },
        many=True,
    )


_BATCH_ERROR = PolymorphicProxySerializer(
    component_name="EventBatchError",
    serializers=[ValidationErrors, ErrorDetail],
    resource_type_field_name=None,
)


class EventBatchApi(APIView):
    permission_classes = [RuntimePermission]
    parser_classes = [EventBatchParser]

    @extend_schema(
        operation_id="events_ingest",
        request={"application/json": EventBatchInput},
        responses={
            200: OpenApiResponse(
                EventBatchOutput,
                description=(
                    "The batch was usable: accepted + duplicates + rejected items equal the "
                    "events sent. An event that breaks the event schema (a missing field, a "
                    "wrong type, a value out of range) does not fail the request: it is listed "
                    "in `rejected` with its index and reason, and the others are stored. "
                    "Rejected items are final; do not resend them."
                ),
            ),
            400: OpenApiResponse(
                _BATCH_ERROR,
                description=(
                    'The whole batch is refused: `{"events": [...]}`, `{"sent_at": [...]}`, '
                    '`{"non_field_errors": [...]}`, or `{"detail": ...}` for malformed JSON.'
                ),
            ),
            413: OpenApiResponse(
                _BATCH_ERROR,
                description=(
                    f'More than {MAX_BATCH_EVENTS} events (`{{"events": [...]}}`) or a body '
                    f'over {MAX_BODY_BYTES // (1024 * 1024)} MB (`{{"detail": ...}}`).'
                ),
            ),
        },
        examples=[OpenApiExample("A purchase", value=_EXAMPLE, request_only=True)],
        description=(
            f"Store a batch of 1 to {MAX_BATCH_EVENTS} conversion events, idempotently by "
            "event_id. The body is read as JSON whatever the Content-Type. See docs/events.md."
        ),
    )
    def post(self, request: Request) -> Response:
        try:
            result = events_ingest(payload=request.data)
        except BatchTooLarge as exc:
            return Response(exc.errors, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        # Built directly (EventBatchOutput documents the shape): up to 1000 rejections per batch.
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": [{"index": i, "reason": r} for i, r in result.rejected],
            }
        )
