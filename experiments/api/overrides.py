"""QA overrides API: list, set and remove the units forced into a variant of an experiment."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import actor_from_request
from core.api_fields import StrictCharField, StrictSlugField
from core.limits import MAX_UNIT_ID_LENGTH
from core.schema import error_responses
from experiments import selectors
from experiments.models import Override
from experiments.services.overrides import override_delete, override_set


class OverrideInput(serializers.Serializer):
    unit_id = StrictCharField(max_length=MAX_UNIT_ID_LENGTH, trim_whitespace=False)
    variant = StrictSlugField(max_length=64)
    note = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class OverrideOutput(serializers.Serializer):
    unit_id = serializers.CharField()
    variant = serializers.CharField(source="variant.key")
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class OverrideListApi(APIView):
    @extend_schema(responses={200: OverrideOutput(many=True), **error_responses(404)})
    def get(self, request: Request, key: str) -> Response:
        overrides = selectors.experiment_or_404(key).overrides.select_related("variant")
        return Response(OverrideOutput(overrides, many=True).data)

    @extend_schema(
        request=OverrideInput,
        responses={
            201: OpenApiResponse(OverrideOutput, description="The unit is now forced."),
            200: OpenApiResponse(OverrideOutput, description="The unit's override was replaced."),
            **error_responses(400, 404),
        },
        description=(
            "Force a unit into a variant (QA). Forced units are left out of analysis; an "
            "archived experiment takes no overrides (400). A unit id with a space, tab or line "
            "break is refused (400, the reason under `unit_id`): force each id on its own."
        ),
    )
    def post(self, request: Request, key: str) -> Response:
        experiment = selectors.experiment_or_404(key)
        data = OverrideInput(data=request.data)
        data.is_valid(raise_exception=True)
        override, created = override_set(
            actor=actor_from_request(request),
            experiment=experiment,
            unit_id=data.validated_data["unit_id"],
            variant_key=data.validated_data["variant"],
            note=data.validated_data["note"],
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(OverrideOutput(override).data, status=code)


class OverrideDetailApi(APIView):
    @extend_schema(responses={204: None, **error_responses(404)})
    def delete(self, request: Request, key: str, unit_id: str) -> Response:
        experiment = selectors.experiment_or_404(key)
        override = Override.objects.filter(experiment=experiment, unit_id=unit_id).first()
        if override is None:
            raise Http404(f'No override for unit "{unit_id}" in experiment "{key}".')
        override_delete(actor=actor_from_request(request), experiment=experiment, override=override)
        return Response(status=status.HTTP_204_NO_CONTENT)
