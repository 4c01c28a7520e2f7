"""``POST /api/v1/events``: apps report conversion events in idempotent batches.

The view only parses the body and calls ``assignment.services.events.events_ingest``. The body
is parsed with ``json.loads`` straight from the request stream (any content type), under a size
cap larger than Django's form-upload limit, since a full batch of 1000 events with 8 KB of
properties each is legitimately several megabytes.
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assignment.services.events import BatchTooLarge, events_ingest
from core.permissions import RuntimePermission

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


class EventBatchApi(APIView):
    permission_classes = [RuntimePermission]
    parser_classes = [EventBatchParser]

    class OutputSerializer(serializers.Serializer):
        accepted = serializers.IntegerField()
        duplicates = serializers.IntegerField()
        rejected = inline_serializer(
            name="EventRejection",
            fields={"index": serializers.IntegerField(), "reason": serializers.CharField()},
            many=True,
        )

    @extend_schema(
        operation_id="events_ingest",
        request={"application/json": {"type": "object"}},
        responses={200: OutputSerializer},
        examples=[OpenApiExample("A purchase", value=_EXAMPLE, request_only=True)],
        description=(
            "Store a batch of 1 to 1000 conversion events, idempotently by event_id. "
            "See docs/events.md."
        ),
    )
    def post(self, request: Request) -> Response:
        try:
            result = events_ingest(payload=request.data)
        except BatchTooLarge as exc:
            return Response(exc.errors, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        # Built directly (OutputSerializer documents the shape): up to 1000 rejections per batch.
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": [{"index": i, "reason": r} for i, r in result.rejected],
            }
        )
