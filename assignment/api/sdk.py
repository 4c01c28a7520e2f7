"""Endpoints for apps that evaluate locally with a GrowthBook SDK.

- ``GET /api/v1/sdk/<client_key>/features`` (also at ``/api/features/<client_key>``, the path
  GrowthBook's SDKs build from ``apiHost`` and ``clientKey``): the SDK payload. The key in the
  path must be a client key; the answer carries a strong ``ETag`` and answers
  ``If-None-Match`` with 304. Any origin may read it (client keys are public).
- ``POST /api/v1/exposures``: exposures reported by the SDKs' tracking callback, checked and
  stored idempotently (app, editor or admin keys).
- ``GET /api/v1/exposures/rejections/<experiment_key>``: client exposures rejected in the
  experiment's current phase, by reason (read by people and control-plane keys).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assignment.services.client_exposures import (
    MAX_BATCH_EXPOSURES,
    client_exposure_rejections,
    client_exposures_ingest,
)
from assignment.services.sdk_payload import sdk_payload_get
from core.auth import api_key_lookup
from core.models import ApiKeyRole
from core.permissions import RuntimePermission
from core.schema import ErrorDetail, bad_request
from experiments.models import Experiment

from .events import EventBatchParser

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, Cache-Control",
    "Access-Control-Expose-Headers": "ETag",
    "Access-Control-Max-Age": "86400",
}


UNKNOWN_CLIENT_KEY = (
    "Unknown or revoked client key. The SDK payload is loaded with a client key "
    "(create_api_key NAME --role client); other keys are secret and must stay out of URLs."
)


def _detail(message: str, code: int) -> HttpResponse:
    body = '{"detail":"' + message.replace('"', "'") + '"}'
    response = HttpResponse(body.encode(), content_type="application/json", status=code)
    for name, value in _CORS.items():
        response[name] = value
    return response


def _matches(header: str, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def sdk_features(request: HttpRequest, client_key: str) -> HttpResponse:
    """The SDK payload for a client key (a plain view: no session, CSRF or DRF work)."""
    if request.method == "OPTIONS":
        return _detail("ok", 200)
    if request.method not in ("GET", "HEAD"):
        response = _detail(f'Method "{request.method}" not allowed.', 405)
        response["Allow"] = "GET, HEAD, OPTIONS"
        return response
    key = api_key_lookup(client_key)
    if key is None or key.role != ApiKeyRole.CLIENT:
        # A secret key in the URL gets the same answer as an unknown one (and is counted as a
        # refused credential like it), so this path never tells whether a string is a key.
        return _detail(UNKNOWN_CLIENT_KEY, 401)
    payload = sdk_payload_get()
    if _matches(request.META.get("HTTP_IF_NONE_MATCH", ""), payload.etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(payload.body, content_type="application/json")
    response["ETag"] = payload.etag
    response["Cache-Control"] = "no-cache"
    for name, value in _CORS.items():
        response[name] = value
    return response


_RULE = {
    "type": "object",
    "description": (
        "A force rule (`condition`, `force`: a QA override) or the experiment rule (`key`, "
        "`variations`, `weights`, `coverage`, `hashAttribute`, `hashVersion`, `seed`, "
        "`condition`, `namespace`, `meta`, `phase`)."
    ),
}
SdkPayloadOutput = inline_serializer(
    "SdkPayload",
    fields={
        "features": serializers.DictField(
            child=inline_serializer(
                "SdkFeature",
                fields={
                    "defaultValue": serializers.JSONField(allow_null=True),
                    "rules": serializers.ListField(child=serializers.JSONField(), required=False),
                },
            ),
            help_text="One feature per running, paused, stopped or concluded experiment.",
        ),
        "dateUpdated": serializers.DateTimeField(),
    },
)


class SdkFeaturesApi(APIView):
    """Documents ``sdk_features`` (the URL serves the plain view)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="sdk_features",
        auth=[],
        responses={
            200: OpenApiResponse(SdkPayloadOutput, description="The payload, with an ETag."),
            304: OpenApiResponse(description="Unchanged since the If-None-Match ETag."),
            401: OpenApiResponse(ErrorDetail, description=UNKNOWN_CLIENT_KEY),
            429: OpenApiResponse(
                ErrorDetail, description="Too many refused credentials from this address."
            ),
        },
        description=(
            "The experiments in the payload format GrowthBook's SDKs load. See docs/sdk.md. "
            "Also served at /api/features/<client_key>, the path the SDKs build themselves."
        ),
    )
    def get(self, request: Request, client_key: str) -> HttpResponse:
        return sdk_features(request._request, client_key)


def _documented(view: Callable[..., HttpResponse], cls: type[APIView]) -> Callable[..., Any]:
    wrapped = csrf_exempt(view)
    documented = cls.as_view()
    wrapped.cls = documented.cls  # type: ignore[attr-defined]
    wrapped.initkwargs = documented.initkwargs  # type: ignore[attr-defined]
    return wrapped


sdk_features_view = _documented(sdk_features, SdkFeaturesApi)
# The SDKs' own path: the same view, documented once (under /api/v1/sdk/...).
sdk_features_alias = csrf_exempt(sdk_features)


class ExposureInput(serializers.Serializer):
    """One exposure as an SDK's tracking callback reports it (``client_exposures_ingest``
    checks each item and rejects it by index)."""

    unit_id = serializers.CharField(help_text="The unit, as the app passes it to assign.")
    experiment = serializers.CharField(help_text="The experiment key (the SDK's experiment.key).")
    variant = serializers.CharField(
        help_text="The variant key (the SDK's result.key, from the rule's meta)."
    )
    timestamp = serializers.DateTimeField(
        required=False, help_text="When the unit was exposed, with a zone; default: now."
    )
    attributes = serializers.DictField(
        required=False, help_text="The attributes the SDK evaluated with (flat, as for assign)."
    )


class ExposureBatchInput(serializers.Serializer):
    exposures = serializers.ListField(
        child=ExposureInput(), min_length=1, max_length=MAX_BATCH_EXPOSURES
    )


ExposureBatchOutput = inline_serializer(
    "ExposureBatchOutput",
    fields={
        "accepted": serializers.IntegerField(help_text="First exposures stored by this request."),
        "duplicates": serializers.IntegerField(
            help_text="Exposures of units already exposed in that experiment and phase."
        ),
        "rejected": inline_serializer(
            name="ExposureRejection",
            fields={
                "index": serializers.IntegerField(help_text="0-based position in exposures."),
                "reason": serializers.CharField(),
            },
            many=True,
        ),
    },
)


class ExposureBatchApi(APIView):
    permission_classes = [RuntimePermission]
    parser_classes = [EventBatchParser]

    @extend_schema(
        operation_id="exposures_ingest",
        request={"application/json": ExposureBatchInput},
        responses={
            200: OpenApiResponse(
                ExposureBatchOutput,
                description=(
                    "The batch was usable: accepted + duplicates + rejected items equal the "
                    "exposures sent. An exposure that breaks the exposure schema, names an "
                    "unknown experiment or variant, or a variant the unit does not hash to is "
                    "listed in `rejected` with its index and reason (as for events); the others "
                    "are stored."
                ),
            ),
            400: bad_request(
                'The whole batch is refused: `{"exposures": [...]}` (missing, empty or over '
                f'{MAX_BATCH_EXPOSURES} items), or `{{"detail": ...}}` for a body that is not '
                "JSON (as for events). Nothing is stored."
            ),
        },
        examples=[
            OpenApiExample(
                "From a tracking callback",
                value={
                    "exposures": [
                        {
                            "unit_id": "user-42",
                            "experiment": "pricing-pro-29",
                            "variant": "treatment",
                            "timestamp": "2024-05-01T12:00:00Z",
                            "attributes": {"user_id": "user-42", "country": "CN"},
                        }
                    ]
                },
                request_only=True,
            )
        ],
        description=(
            "Store exposures that client SDKs observed, idempotently per experiment, phase and "
            "unit. Items for a variant the unit does not hash to, or for an experiment that is "
            "not running, are rejected with that reason and counted on the experiment."
        ),
    )
    def post(self, request: Request) -> Response:
        result = client_exposures_ingest(payload=request.data)
        return Response(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "rejected": [{"index": i, "reason": r} for i, r in result.rejected],
            }
        )


class ExposureRejectionsApi(APIView):
    @extend_schema(
        operation_id="exposures_rejections",
        responses={
            200: inline_serializer(
                "ClientExposureRejections",
                fields={
                    "experiment": serializers.CharField(),
                    "phase": serializers.IntegerField(),
                    "rejected": serializers.DictField(
                        child=serializers.IntegerField(),
                        help_text="Counts by reason: variant_mismatch, not_running.",
                    ),
                },
            ),
            404: ErrorDetail,
        },
        description="Client exposures rejected in the experiment's current phase.",
    )
    def get(self, request: Request, experiment_key: str) -> Response:
        experiment = get_object_or_404(Experiment, key=experiment_key)
        return Response(
            {
                "experiment": experiment.key,
                "phase": experiment.phase,
                "rejected": client_exposure_rejections(experiment=experiment),
            },
            status=status.HTTP_200_OK,
        )
