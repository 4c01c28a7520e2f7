"""Result endpoints: thin views over the snapshot selectors and the refresh service.

Bodies are the typed classes of ``analysis.api.serializers`` (the results contract's own
classes, ``analysis.engine.contract``, as served), whose OpenAPI components come from the
same fields.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis import selectors
from analysis.models import ResultSnapshot, SnapshotStatus
from analysis.services.export import results_csv, results_summary
from analysis.services.refresh import experiment_refresh_request
from analysis.words import results_in_words
from assignment.services.client_exposures import client_exposure_rejections
from core.schema import ErrorDetail, ValidationErrors
from experiments.models import Experiment
from experiments.selectors import experiment_or_404

from .serializers import RefreshQueued, ResultsHistory, ResultsResponse

NO_RESULTS = "No results yet: refresh with POST /api/v1/experiments/{key}/results/refresh."

NOT_FOUND = OpenApiResponse(
    ErrorDetail, description="No experiment with that key, or (results) no snapshot yet."
)


def _latest_or_404(experiment: Experiment) -> ResultSnapshot:
    snapshot = selectors.snapshot_latest(experiment=experiment)
    if snapshot is None:
        raise Http404(NO_RESULTS.format(key=experiment.key))
    return snapshot


_ERROR_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,100}")
REFRESH_FAILED = (
    "The refresh failed ({kind}); the results shown are from the last good refresh. The details "
    "are in the server log and in failed snapshot {id}."
)


def refresh_error_public(snapshot: ResultSnapshot) -> str:
    """What a reader is told about a failed refresh: the error's type and where the details
    are, never the error text itself (it can hold database messages and SQL)."""
    head = (snapshot.error or "").split(":", 1)[0].strip()
    kind = head.rsplit(".", 1)[-1] if _ERROR_TYPE.fullmatch(head) else "error"
    return REFRESH_FAILED.format(kind=kind, id=snapshot.id)


def _last_refresh(experiment: Experiment) -> dict[str, Any] | None:
    attempt = selectors.snapshot_last_attempt(experiment=experiment)
    if attempt is None or attempt.status != SnapshotStatus.FAILED:
        return None
    return {
        "status": "failed",
        "at": attempt.computed_at.isoformat(),
        "error": refresh_error_public(attempt),
    }


class ResultsApi(APIView):
    """The latest good snapshot of an experiment (the shape is documented in docs/analysis.md)."""

    @extend_schema(responses={200: ResultsResponse, 404: NOT_FOUND})
    def get(self, request: Request, key: str) -> Response:
        experiment = experiment_or_404(key)
        snapshot = _latest_or_404(experiment)
        results = selectors.snapshot_results(snapshot=snapshot)
        with translation.override("en"):
            words = results_in_words(results)
        body = ResultsResponse.from_dict(
            {
                **words,
                "snapshot_id": snapshot.id,
                "last_refresh": _last_refresh(experiment),
                "client_exposure_rejections": client_exposure_rejections(experiment=experiment),
            }
        )
        return Response(body.to_dict())


class ResultsHistoryApi(APIView):
    """Earlier snapshots, newest first, summarised for charts of the effect over time."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                description="At most this many (1-1000).",
            )
        ],
        responses={
            200: ResultsHistory,
            400: OpenApiResponse(
                ValidationErrors, description="`limit` is not a whole number from 1 to 1000."
            ),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, key: str) -> Response:
        experiment = experiment_or_404(key)
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            return Response(
                {"limit": ["A whole number from 1 to 1000."]}, status=status.HTTP_400_BAD_REQUEST
            )
        snapshots = selectors.snapshot_history(experiment=experiment, limit=int(raw))
        body = {
            "experiment": experiment.key,
            "snapshots": [
                {
                    "snapshot_id": s.id,
                    **results_summary(selectors.snapshot_results(snapshot=s)),
                }
                for s in snapshots
            ],
        }
        return Response(ResultsHistory.from_dict(body).to_dict())


class ResultsCsvApi(APIView):
    """The latest snapshot as CSV: one row per metric and variant."""

    @extend_schema(responses={(200, "text/csv"): str, 404: NOT_FOUND})
    def get(self, request: Request, key: str) -> HttpResponse:
        experiment = experiment_or_404(key)
        snapshot = _latest_or_404(experiment)
        results = selectors.snapshot_results(snapshot=snapshot)
        response = HttpResponse(results_csv(results), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{experiment.key}-results.csv"'
        return response


BROKER_DOWN = OpenApiResponse(
    ValidationErrors,
    description=(
        'The task queue (broker) cannot be reached: `{"broker": ["..."]}` with `Retry-After`. '
        "Nothing was queued; the last results stay available."
    ),
)


class ResultsRefreshApi(APIView):
    """Queue a refresh; 202 once it is queued, 503 when the broker is down. Without a broker
    configured it runs in-process before the response."""

    @extend_schema(
        request=None,
        responses={202: RefreshQueued, 404: NOT_FOUND, 503: BROKER_DOWN},
    )
    def post(self, request: Request, key: str) -> Response:
        experiment = experiment_or_404(key)
        body = experiment_refresh_request(experiment=experiment)
        return Response(RefreshQueued.from_dict(body).to_dict(), status=status.HTTP_202_ACCEPTED)
