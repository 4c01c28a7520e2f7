"""``POST /api/v1/experiments/<key>/duplicate``: a new draft with the experiment's design."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actors import actor_from_request
from core.api_fields import ClosedSerializer, StrictCharField, StrictSlugField
from core.schema import error_responses
from experiments import selectors
from experiments.services.duplicate import experiment_duplicate

from . import serializers as s


class DuplicateInput(ClosedSerializer):
    key = StrictSlugField(
        max_length=64,
        required=False,
        help_text='The copy\'s key; default "<key>-copy", then "<key>-copy-2", … (the first free).',
    )
    name = StrictCharField(
        max_length=200,
        required=False,
        help_text="The copy's name; default the original's with \" (copy)\" after it.",
    )


class ExperimentDuplicateApi(APIView):
    @extend_schema(
        request=DuplicateInput,
        responses={201: s.ExperimentOutput, **error_responses(400, 404)},
        description=(
            "Copy an experiment (in any status) as a new draft: its hypothesis, variants with "
            "payloads and weights, targeting, coverage, layer, metrics with their roles and the "
            "analysis plan. The copy gets a new key and a new salt, so its units are assigned "
            "afresh; it has no exposures, results, QA overrides or decision. Both experiments "
            "get an audit entry. A key already taken answers 400 on `key`."
        ),
    )
    def post(self, request: Request, key: str) -> Response:
        experiment = selectors.experiment_or_404(key)
        data = DuplicateInput(data=request.data)
        data.is_valid(raise_exception=True)
        copy = experiment_duplicate(
            actor=actor_from_request(request),
            experiment=experiment,
            key=data.validated_data.get("key"),
            name=data.validated_data.get("name"),
        )
        output = s.ExperimentOutput(selectors.experiment_or_404(copy.key)).data
        return Response(output, status=status.HTTP_201_CREATED)
