"""The assign API: thin views over ``assignment.services``.

``POST /api/v1/assign`` assigns one unit in many experiments; ``GET /api/v1/assign/<key>``
in one. Both read definitions from the in-process cache and store exposures before answering.
A batch call whose body this process already answered with the current definitions snapshot
reuses that answer's bytes (still recording its exposures): apps repeat the same call for the
same unit on every page view.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from assignment.definitions import Definitions, definitions_get
from assignment.services.assign import REASONS, Assignment, assign_experiment, assign_unit
from assignment.services.assign_input import (
    MAX_ATTRIBUTE_NAME,
    MAX_ATTRIBUTES,
    MAX_EXPERIMENTS,
    MAX_LIST_ITEMS,
    MAX_STRING_VALUE,
    AssignRequest,
    assign_query_parse,
    assign_request_parse,
)
from assignment.services.exposures import exposures_record
from core.auth import api_key_lookup, bearer_token
from core.caches import ENTRY_OVERHEAD, bytes_cache
from core.errors import ValidationFailed
from core.limits import MAX_UNIT_ID_LENGTH
from core.permissions import RUNTIME_CALLERS, RuntimePermission
from core.schema import ErrorDetail, ValidationErrors


class AssignmentOutput(serializers.Serializer):
    """Documentation of one answer (the view builds the dict directly)."""

    experiment = serializers.CharField(help_text="The experiment's key.")
    variant = serializers.CharField(
        allow_null=True, help_text="The variant's key; null when the unit is not in."
    )
    payload = serializers.JSONField(
        allow_null=True, help_text="The variant's payload; null when there is no variant."
    )
    in_experiment = serializers.BooleanField()
    reason = serializers.ChoiceField(choices=list(REASONS))


_SCALAR = [
    {"type": "string", "maxLength": MAX_STRING_VALUE},
    {"type": "number"},
    {"type": "boolean"},
]


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "minLength": 1, "maxLength": MAX_UNIT_ID_LENGTH},
            {"type": "integer"},
        ],
        "description": (
            f"The unit to assign: a non-empty string of at most {MAX_UNIT_ID_LENGTH} characters, "
            "or an integer (used as its decimal string)."
        ),
    }
)
class UnitIdField(serializers.Field):
    """Documents ``unit_id`` (string or integer); ``assign_request_parse`` validates it."""


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "maxProperties": MAX_ATTRIBUTES,
        "additionalProperties": {
            "nullable": True,
            "oneOf": [
                *_SCALAR,
                # null items too: GrowthBook's evaluator (ours mirrors it) compares them.
                {
                    "type": "array",
                    "maxItems": MAX_LIST_ITEMS,
                    "items": {"nullable": True, "oneOf": _SCALAR},
                },
            ],
        },
        "description": (
            f"A flat object of at most {MAX_ATTRIBUTES} attributes (names of 1 to "
            f"{MAX_ATTRIBUTE_NAME} characters) for targeting and the randomization unit: "
            f"strings of at most {MAX_STRING_VALUE} characters, finite numbers, booleans, null, "
            f"or arrays of at most {MAX_LIST_ITEMS} of those. Nested objects are refused."
        ),
        "example": {"country": "CN", "is_new_user": True, "app_version": "3.2.1"},
    }
)
class AttributesField(serializers.Field):
    """Documents ``attributes``; ``assign_request_parse`` validates it."""


class AssignInput(serializers.Serializer):
    """The body of POST /api/v1/assign; any other field is refused with 400."""

    unit_id = UnitIdField()
    attributes = AttributesField(required=False)
    experiments = serializers.ListField(
        child=serializers.CharField(min_length=1),
        required=False,
        allow_null=True,
        min_length=1,
        max_length=MAX_EXPERIMENTS,
        help_text=(
            "The experiment keys to assign in (repeats are answered once); leave it out for "
            "every live (running or paused) experiment."
        ),
    )
    track = serializers.BooleanField(
        required=False,
        default=True,
        help_text="false assigns without recording exposures (e.g. for previews).",
    )


class AssignBatchOutput(serializers.Serializer):
    unit_id = serializers.CharField()
    assignments = AssignmentOutput(many=True)


AssignOneOutput = inline_serializer(
    "AssignOneOutput",
    fields={"unit_id": serializers.CharField(), **AssignmentOutput().get_fields()},
)

_BAD_INPUT = OpenApiResponse(
    ValidationErrors,
    description=(
        'Invalid input: `{"field": ["message"]}`, e.g. `{"unit_id": ["Must not be empty."]}`. '
        "Nothing is recorded."
    ),
)
_UNKNOWN_EXPERIMENT = OpenApiResponse(
    ErrorDetail, description="No experiment with that key (an archived one answers 200)."
)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# Built once: ``json.loads``/``json.dumps`` with arguments build a new decoder/encoder per call.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _loads(body: bytes) -> Any:
    """``json.loads(body, parse_constant=_no_constant)`` with the decoder built once: the same
    encoding detection (UTF-8, -16 or -32) and the same errors."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def _is_json(request: HttpRequest | Request) -> bool:
    content_type = request.META.get("CONTENT_TYPE", "")
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _json_body(request: HttpRequest | Request) -> Any:
    """The JSON body, parsed directly (no DRF parser negotiation on the hot path)."""
    if not _is_json(request):
        raise ValidationFailed(
            {"non_field_errors": ["Send a JSON body with Content-Type: application/json."]}
        )
    try:
        return _loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            {"non_field_errors": [f"The body is not valid JSON: {exc}."]}
        ) from exc
    except RecursionError as exc:
        raise ValidationFailed(
            {"non_field_errors": ["The body is nested too deeply (attributes are flat)."]}
        ) from exc


def _json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    """Serialize once, directly: the answer has only JSON types."""
    data = _ENCODER.encode(body)
    return HttpResponse(data.encode(), content_type="application/json", status=status)


def _record(request: AssignRequest, answers: list[Assignment]) -> None:
    if request.track:
        exposures_record(
            unit_id=request.unit_id, attributes=request.attributes, assignments=answers
        )


class RuntimeApiView(APIView):
    """An APIView for the hot path: authentication and the runtime permission only.

    DRF's per-request content negotiation, versioning and throttling are skipped (the answer is
    always JSON; there are no throttles).
    """

    permission_classes = [RuntimePermission]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.format_kwarg = None
        renderer = self.renderer_classes[0]()
        request.accepted_renderer = renderer
        request.accepted_media_type = renderer.media_type
        self.perform_authentication(request)
        self.check_permissions(request)


@dataclass(frozen=True, slots=True)
class _Answered:
    """A batch call answered with one definitions snapshot: what to record and to send."""

    definitions: Definitions
    request: AssignRequest
    answers: list[Assignment]
    content: bytes


# Repeat calls: the answer to a body this process answered with the same definitions snapshot
# (the same object, so any reload misses). Only the parsing, validation, decision and
# serialization are skipped; exposures are still recorded on every call. Bodies up to
# MEMO_MAX_BODY bytes, in an LRU of VERDICT_ASSIGN_MEMO_BYTES (core.caches), holding answers of
# the latest snapshot only: a new snapshot empties it, so no older snapshot is kept alive.
MEMO_MAX_BODY = 2048
# An answer's estimated bytes: its body and content; the parsed request (its strings, about the
# body's length again, plus an object per JSON element: counted by its commas and colons); and
# each Assignment. Lengths and counts only, so the estimate costs less than the store;
# tests/core/test_caches.py checks it against measured memory.
MEMO_ENTRY_FIXED = ENTRY_OVERHEAD + 512
PARSED_ELEMENT_BYTES = 64
ASSIGNMENT_BYTES = 128


def _memo_entry_bytes(body: bytes, memo: _Answered) -> int:
    elements = body.count(b",") + body.count(b":")
    return (
        MEMO_ENTRY_FIXED
        + 2 * len(body)
        + PARSED_ELEMENT_BYTES * elements
        + len(memo.content)
        + ASSIGNMENT_BYTES * len(memo.answers)
    )


_memo_lock = threading.Lock()
_answered = bytes_cache(
    "assign answers",
    holds="answers to assign bodies, for a repeated body under the same definitions",
    maxbytes=settings.VERDICT_ASSIGN_MEMO_BYTES,
    entry_size=_memo_entry_bytes,
    lock=_memo_lock,
    setting="VERDICT_ASSIGN_MEMO_BYTES",
)
_memo_definitions: Definitions | None = None


def _assign_batch(request: HttpRequest | Request) -> HttpResponse:
    global _memo_definitions
    body = request.body
    memo = None
    if len(body) <= MEMO_MAX_BODY:
        with _memo_lock:
            memo = _answered.get(body)
    if memo is not None and _is_json(request):
        definitions = definitions_get()
        if memo.definitions is definitions:
            _record(memo.request, memo.answers)
            return HttpResponse(memo.content, content_type="application/json")
    parsed = assign_request_parse(_json_body(request))
    definitions = definitions_get()
    answers = assign_unit(definitions, parsed.unit_id, parsed.attributes, parsed.keys)
    _record(parsed, answers)
    content = _ENCODER.encode(
        {"unit_id": parsed.unit_id, "assignments": [a.as_dict() for a in answers]}
    ).encode()
    if len(body) <= MEMO_MAX_BODY:
        answered = _Answered(definitions, parsed, answers, content)
        with _memo_lock:
            if _memo_definitions is not definitions:
                _answered.clear()
                _memo_definitions = definitions
            _answered[body] = answered
    return HttpResponse(content, content_type="application/json")


def _assign_one(request: HttpRequest | Request, experiment_key: str) -> HttpResponse:
    parsed = assign_query_parse(request.GET.lists())
    definitions = definitions_get()
    defn = definitions.by_key.get(experiment_key)
    if defn is None:
        if experiment_key not in definitions.archived:
            raise Http404(f'No experiment with key "{experiment_key}".')
        [answer] = assign_unit(definitions, parsed.unit_id, parsed.attributes, [experiment_key])
    else:
        answer = assign_experiment(defn, parsed.unit_id, parsed.attributes)
    _record(parsed, [answer])
    return _json({"unit_id": parsed.unit_id, **answer.as_dict()})


class AssignApi(RuntimeApiView):
    fast_handlers = {"POST": _assign_batch}

    @extend_schema(
        request=AssignInput,
        responses={200: AssignBatchOutput, 400: _BAD_INPUT},
        description=(
            "Assign one unit in many experiments and record first exposures. The answer lists "
            "every requested (or live) experiment, in or out, with the reason. Send "
            "Content-Type: application/json."
        ),
        examples=[
            OpenApiExample(
                "Two experiments",
                value={
                    "unit_id": "u-1001",
                    "attributes": {"country": "CN", "is_new_user": True},
                    "experiments": ["pricing-pro-29", "onboarding-checklist"],
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        return _assign_batch(request)


class AssignOneApi(RuntimeApiView):
    fast_handlers = {"GET": _assign_one}

    @extend_schema(
        parameters=[
            OpenApiParameter("unit_id", str, required=True, description="The unit to assign."),
            OpenApiParameter(
                "track",
                bool,
                description="false assigns without recording an exposure (default true).",
            ),
            OpenApiParameter(
                "attributes",
                OpenApiTypes.OBJECT,
                style="form",
                explode=True,
                description=(
                    "Every other query parameter is an attribute: `?country=SG&app_version=3.2.1`. "
                    "`true`/`false` become booleans and numbers written plainly (`42`, `1.5`) "
                    "numbers; a repeated parameter becomes an array."
                ),
            ),
        ],
        responses={200: AssignOneOutput, 400: _BAD_INPUT, 404: _UNKNOWN_EXPERIMENT},
        description="Assign one unit in one experiment and record its first exposure.",
    )
    def get(self, request: Request, experiment_key: str) -> HttpResponse:
        return _assign_one(request, experiment_key)


def _runtime_key(request: HttpRequest) -> bool:
    """Whether the request carries a known API key whose role may call runtime endpoints."""
    raw = bearer_token(request)
    if raw is None:
        return False
    key = api_key_lookup(raw)
    return key is not None and key.role in RUNTIME_CALLERS


def runtime_view(view_class: type[RuntimeApiView]) -> Callable[..., HttpResponse]:
    """The view for ``view_class``, with a fast path for calls with a runtime API key.

    A call authenticated by an app, editor or admin key goes straight to the handler (the same
    function the DRF view calls), skipping DRF's request wrapping, which is a large share of an
    assign call. Everything else (sessions, with their CSRF check; missing, unknown or
    unauthorized keys; other methods) goes through the DRF view, which gives the usual
    401/403/405 answers. Errors keep the API's shapes: 400 with the field mapping, 404 with
    ``detail``.
    """
    drf_view = view_class.as_view()
    handlers = view_class.fast_handlers

    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        handler = handlers.get(request.method or "")
        if handler is not None and _runtime_key(request):
            try:
                return handler(request, *args, **kwargs)
            except ValidationFailed as exc:
                return _json(exc.errors, status=400)
            except Http404 as exc:
                return _json({"detail": str(exc)}, status=404)
        return drf_view(request, *args, **kwargs)

    # drf-spectacular documents the DRF view class.
    view.cls = drf_view.cls  # type: ignore[attr-defined]
    view.initkwargs = drf_view.initkwargs  # type: ignore[attr-defined]
    return view
