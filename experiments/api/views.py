"""Control-plane API: thin views that translate HTTP to service calls."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import actor_from_request
from core.errors import ValidationFailed
from core.schema import error_responses
from experiments import selectors
from experiments.models import ExperimentKind, ExperimentStatus, Layer, Metric
from experiments.services.experiments import (
    experiment_create,
    experiment_delete,
    experiment_update,
)
from experiments.services.layers import layer_create, layer_delete, layer_update
from experiments.services.lifecycle import experiment_new_phase, experiment_transition
from experiments.services.metrics import FIELDS as METRIC_FIELDS
from experiments.services.metrics import (
    PRESENTATION_FIELDS,
    metric_create,
    metric_delete,
    metric_update,
)

from . import serializers as s


def _experiment_response(key: str, code: int = status.HTTP_200_OK) -> Response:
    return Response(s.ExperimentOutput(selectors.experiment_or_404(key)).data, status=code)


def _list_filters(request: Request, **allowed: list[str]) -> dict[str, str | None]:
    """The filter query parameters, each absent (None) or one of its allowed values; anything
    else is a 400 naming the parameter and the values it takes."""
    errors: dict[str, list[str]] = {}
    found: dict[str, str | None] = {}
    for name, values in allowed.items():
        given = request.query_params.getlist(name)
        if len(given) > 1:
            errors[name] = [f"Give {name} once."]
        elif given and given[0] not in values:
            errors[name] = [f'Unknown {name} "{given[0]}"; one of: {", ".join(values)}.']
        found[name] = given[0] if given else None
    if errors:
        raise ValidationFailed(errors)
    return found


class ExperimentListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=ExperimentStatus.values, description="Only this status."
            ),
            OpenApiParameter(
                "kind", str, enum=ExperimentKind.values, description="Only this kind."
            ),
        ],
        responses={200: s.ExperimentOutput(many=True), **error_responses(400)},
        description=(
            "Every experiment, or those with the given status and kind; an unknown value "
            "answers 400 naming the allowed ones."
        ),
    )
    def get(self, request: Request) -> Response:
        filters = _list_filters(request, status=ExperimentStatus.values, kind=ExperimentKind.values)
        qs = selectors.experiment_list(status=filters["status"], kind=filters["kind"])
        return Response(s.ExperimentOutput(qs, many=True).data)

    @extend_schema(
        request=s.ExperimentInput,
        responses={201: s.ExperimentOutput, **error_responses(400)},
        description="Create a draft experiment.",
    )
    def post(self, request: Request) -> Response:
        data = s.ExperimentInput(data=request.data)
        data.is_valid(raise_exception=True)
        experiment = experiment_create(actor=actor_from_request(request), data=data.validated_data)
        return _experiment_response(experiment.key, status.HTTP_201_CREATED)


class ExperimentDetailApi(APIView):
    @extend_schema(responses={200: s.ExperimentOutput, **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        return _experiment_response(key)

    def _update(self, request: Request, key: str, partial: bool) -> Response:
        experiment = selectors.experiment_or_404(key)
        data = s.ExperimentInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        experiment = experiment_update(
            actor=actor_from_request(request), experiment=experiment, data=data.validated_data
        )
        return _experiment_response(experiment.key)

    @extend_schema(
        request=s.ExperimentInput,
        responses={200: s.ExperimentOutput, **error_responses(400, 404)},
        description=(
            "Replace the definition. Once started, the key, salt, unit attribute, layer, variants "
            "and weights are fixed (new-phase changes weights); coverage may only rise."
        ),
    )
    def put(self, request: Request, key: str) -> Response:
        return self._update(request, key, partial=False)

    @extend_schema(
        request=s.ExperimentInput,
        responses={200: s.ExperimentOutput, **error_responses(400, 404)},
        description="Change the fields given; the same rules as PUT.",
    )
    def patch(self, request: Request, key: str) -> Response:
        return self._update(request, key, partial=True)

    @extend_schema(
        responses={204: None, **error_responses(400, 404)},
        description="Delete a draft (a started experiment is archived instead: 400).",
    )
    def delete(self, request: Request, key: str) -> Response:
        experiment = selectors.experiment_or_404(key)
        experiment_delete(actor=actor_from_request(request), experiment=experiment)
        return Response(status=status.HTTP_204_NO_CONTENT)


ACTION_DESCRIPTIONS = {
    "start": (
        "Start a draft: checks the definition (two or more variants, one control, positive "
        "weights, one primary metric, valid targeting), takes its layer slice and begins "
        "assigning units. 400 with messages per field when the definition is not ready."
    ),
    "pause": "Pause a running experiment: units keep their variant, no new units enter.",
    "resume": "Resume a paused experiment.",
    "stop": "Stop a running or paused experiment: assignment ends and its layer slice is freed.",
    "conclude": (
        "Record the decision on a stopped experiment: ship a variant (`winner` is required), "
        "keep control or inconclusive, with a review of expected vs actual."
    ),
    "archive": "Archive a draft, stopped or concluded experiment.",
}


class ExperimentActionSchema(AutoSchema):
    """One documented operation per lifecycle action: ``conclude`` takes the decision, the others
    an optional ``reason`` recorded in the audit log."""

    def get_request_serializer(self) -> Any:
        return s.ConcludeInput if self.view.action_name == "conclude" else s.ReasonInput

    def get_response_serializers(self) -> Any:
        output = s.ExperimentStartOutput if self.view.action_name == "start" else s.ExperimentOutput
        return {200: output, **error_responses(400, 404, 409)}

    def get_description(self) -> str:
        return ACTION_DESCRIPTIONS.get(self.view.action_name, "")


class ExperimentActionApi(APIView):
    """POST /experiments/<key>/<action> for start, pause, resume, stop, conclude, archive."""

    action_name = ""
    schema = ExperimentActionSchema()

    def post(self, request: Request, key: str) -> Response:
        experiment = selectors.experiment_or_404(key)
        body: Any = s.ConcludeInput if self.action_name == "conclude" else s.ReasonInput
        data = body(data=request.data)
        data.is_valid(raise_exception=True)
        done = experiment_transition(
            actor=actor_from_request(request),
            experiment=experiment,
            action=self.action_name,
            params=dict(data.validated_data),
        )
        if self.action_name != "start":
            return _experiment_response(key)
        started = selectors.experiment_or_404(key)
        started.warnings = list(done.warnings)
        return Response(s.ExperimentStartOutput(started).data)


class ExperimentNewPhaseApi(APIView):
    @extend_schema(
        request=s.NewPhaseInput,
        responses={200: s.ExperimentOutput, **error_responses(400, 404, 409)},
        description=(
            "Begin a new phase of a running or paused experiment: the explicit way to lower "
            "coverage, change weights (by variant key) or re-randomize. The new phase gets a new "
            "salt (given, or derived), so every unit is assigned afresh."
        ),
    )
    def post(self, request: Request, key: str) -> Response:
        experiment = selectors.experiment_or_404(key)
        data = s.NewPhaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        experiment_new_phase(
            actor=actor_from_request(request),
            experiment=experiment,
            coverage=data.validated_data.get("coverage"),
            weights=data.validated_data.get("weights"),
            salt=data.validated_data.get("salt") or None,
            reason=data.validated_data.get("reason", ""),
        )
        return _experiment_response(key)


class ExperimentAuditApi(APIView):
    @extend_schema(responses={200: s.AuditOutput(many=True), **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        entries = selectors.experiment_audit(experiment=selectors.experiment_or_404(key))
        return Response(s.AuditOutput(entries, many=True).data)


METRIC_UPDATE_HELP = (
    "Change a metric. While a running or paused experiment uses it, only "
    f"{', '.join(f for f in METRIC_FIELDS if f in PRESENTATION_FIELDS)} can change (400 names "
    "each refused field): create a new metric for a different definition."
)


def _metric_or_404(key: str) -> Metric:
    metric = selectors.metric_list().filter(key=key).first()
    if metric is None:
        raise Http404(f'No metric with key "{key}".')
    return metric


class MetricListApi(APIView):
    @extend_schema(responses=s.MetricOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(s.MetricOutput(selectors.metric_list(), many=True).data)

    @extend_schema(request=s.MetricInput, responses={201: s.MetricOutput, **error_responses(400)})
    def post(self, request: Request) -> Response:
        data = s.MetricInput(data=request.data)
        data.is_valid(raise_exception=True)
        metric = metric_create(actor=actor_from_request(request), data=dict(data.validated_data))
        return Response(s.MetricOutput(metric).data, status=status.HTTP_201_CREATED)


class MetricDetailApi(APIView):
    @extend_schema(responses={200: s.MetricOutput, **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        return Response(s.MetricOutput(_metric_or_404(key)).data)

    def _update(self, request: Request, key: str, partial: bool) -> Response:
        metric = _metric_or_404(key)
        data = s.MetricInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        metric = metric_update(
            actor=actor_from_request(request), metric=metric, data=dict(data.validated_data)
        )
        return Response(s.MetricOutput(metric).data)

    @extend_schema(
        request=s.MetricInput,
        responses={200: s.MetricOutput, **error_responses(400, 404)},
        description=METRIC_UPDATE_HELP,
    )
    def patch(self, request: Request, key: str) -> Response:
        return self._update(request, key, partial=True)

    @extend_schema(
        request=s.MetricInput,
        responses={200: s.MetricOutput, **error_responses(400, 404)},
        description=METRIC_UPDATE_HELP,
    )
    def put(self, request: Request, key: str) -> Response:
        return self._update(request, key, partial=False)

    @extend_schema(
        responses={204: None, **error_responses(400, 404)},
        description="Delete a metric no experiment uses (400 otherwise).",
    )
    def delete(self, request: Request, key: str) -> Response:
        metric_delete(actor=actor_from_request(request), metric=_metric_or_404(key))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _layer_or_404(key: str) -> Layer:
    layer = selectors.layer_list().filter(key=key).first()
    if layer is None:
        raise Http404(f'No layer with key "{key}".')
    return layer


class LayerListApi(APIView):
    @extend_schema(responses=s.LayerOutput(many=True))
    def get(self, request: Request) -> Response:
        layers = selectors.layer_list().prefetch_related("experiments")
        return Response(s.LayerOutput(layers, many=True).data)

    @extend_schema(request=s.LayerInput, responses={201: s.LayerOutput, **error_responses(400)})
    def post(self, request: Request) -> Response:
        data = s.LayerInput(data=request.data)
        data.is_valid(raise_exception=True)
        layer = layer_create(actor=actor_from_request(request), **data.validated_data)
        return Response(s.LayerOutput(layer).data, status=status.HTTP_201_CREATED)


class LayerDetailApi(APIView):
    @extend_schema(responses={200: s.LayerOutput, **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        return Response(s.LayerOutput(_layer_or_404(key)).data)

    @extend_schema(
        request=s.LayerInput,
        responses={200: s.LayerOutput, **error_responses(400, 404)},
        description="Rename or describe a layer; its key cannot change.",
    )
    def patch(self, request: Request, key: str) -> Response:
        layer = _layer_or_404(key)
        data = s.LayerInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "key" in data.validated_data and data.validated_data["key"] != layer.key:
            return Response({"key": ["A layer's key cannot change."]}, status=400)
        layer = layer_update(
            actor=actor_from_request(request),
            layer=layer,
            name=data.validated_data.get("name"),
            description=data.validated_data.get("description"),
        )
        return Response(s.LayerOutput(layer).data)

    @extend_schema(
        responses={204: None, **error_responses(400, 404)},
        description="Delete a layer no experiment uses (400 otherwise).",
    )
    def delete(self, request: Request, key: str) -> Response:
        layer_delete(actor=actor_from_request(request), layer=_layer_or_404(key))
        return Response(status=status.HTTP_204_NO_CONTENT)
